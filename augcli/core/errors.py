"""Errors shared across modules."""

from __future__ import annotations


class InputError(ValueError):
    """One input file cannot be used (undecodable, unsupported, too large); the run goes on.

    Modalities raise subclasses with a message that says what is wrong with the file.
    """
