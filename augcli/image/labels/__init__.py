"""Annotations that move with their image: boxes (YOLO, COCO, Pascal VOC), polygons, masks.

Owns each label format's reading and writing (yolo, obb, coco, voc, masks, dataset_yaml for an
ultralytics data.yaml), the pure geometry that carries boxes, polygons and keypoints through a
copy's steps (shapes), and the pairing of an image with its label files and masks (companions).
Imports core and the image modality's pixel ops and kernels; never another modality, the build
engine or a face.
"""
