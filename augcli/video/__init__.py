"""The video modality: clips in, clips out, every frame of a copy through the same draws.

Owns PyAV decoding and encoding (io), the temporal transforms (transforms), and the section that
applies the image modality's picture transforms to every frame alike (modality). Imports core,
the image modality (its transforms and pixel ops) and the audio modality (the sound track);
never storage, the build engine or a face.
"""
