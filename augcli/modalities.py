"""The modalities augcli knows, by recipe section name."""

from __future__ import annotations

from augcli.audio.modality import AudioModality
from augcli.image.modality import ImageModality
from augcli.modality import Modality
from augcli.tabular.modality import TabularModality
from augcli.text.modality import TextModality

MODALITIES: dict[str, Modality] = {
    "image": ImageModality(),
    "audio": AudioModality(),
    "text": TextModality(),
    "tabular": TabularModality(),
}
