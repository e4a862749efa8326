"""The audio modality: sounds in, sounds out, in the input's own format and subtype.

Owns decoding and encoding with libsndfile (io, and the byte-stable Ogg and PEAK fixes in ogg and
peak), the pure sample kernels (functional, envelope, vocoder, room), the registered transforms
(transforms) and the section that renders a copy (modality). Imports core, and storage's remote
mirrors only (a background-noise folder may be a bucket); never another modality, the build
engine or a face. The video modality builds on it for a clip's sound track.
"""
