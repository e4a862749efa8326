"""The video modality: PyAV in and out (io), temporal transforms (transforms), and the section
that applies the image modality's picture transforms to every frame alike (modality). Builds on
the image modality (its transforms and pixel ops) and nothing else of augcli but core."""
