"""The image modality: pictures in, pictures out, with whatever annotations move with them.

Owns decoding and encoding (io), the pure pixel kernels (functional, color, geometry, lookup), the
merged per-copy pixel work (ops), the registered transforms and automatic policies (transforms,
policies), the section that renders a copy (modality), soft labels for mixed copies, and two
subpackages: labels (boxes, polygons, keypoints, masks in their file formats) and mix (mosaic,
mixup, cutmix, copy_paste). Imports core only (and its own subpackages); never another modality,
the build engine or a face. The video modality builds on its transforms and ops.
"""
