"""Transforms that mix several pictures into one copy: mosaic, mixup, cutmix and copy_paste.

Owns the mixing: kernels.py holds the pure pixel work, targets.py moves boxes, polygons,
keypoints and masks with it (pasted pixels occlude what lies under them), transforms.py draws the
parameters and puts the two together. Which inputs a copy mixes in is decided by the engine
(core/partners.py). Imports core, the image modality and its labels; never another modality,
the build engine or a face.
"""
