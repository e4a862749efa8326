"""Annotations that move with their image: boxes (YOLO, COCO, Pascal VOC), polygons, masks."""
