#!/usr/bin/env python3
"""Records Paddle Inference's scores for the genuinely trained legacy model
`ch_ppocr_cls_legacy` (PaddleOCR's ch_ppocr_mobile_v2.0_cls, `inference.pdmodel`)
on the text-line photos, preprocessed as PaddleX's image_classification
pipeline does with that fixture's inference.yml (cv2.imread -> RGB,
ResizeImage 192x48 LINEAR, Normalize mean/std 0.5, HWC->CHW). The Rust test
runs the pipeline on a copy of the fixture folder (Paddle files only, no
ONNX) and compares.

Versions: paddlepaddle==3.3.1, opencv-python-headless==4.11.0.86, numpy 2.x.

    python tests/data/paddle/photo_reference.py > tests/data/paddle/ch_ppocr_cls_legacy/photos.json
"""
import json
import os

import cv2
import numpy as np
from paddle import inference

HERE = os.path.dirname(os.path.abspath(__file__))
PHOTOS = os.path.join(HERE, "..", "photos")
NAMES = ["line_0.png", "line_180.png", "text.png", "doc_0.png"]


def preprocess(path):
    img = cv2.imread(path)  # BGR
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = cv2.resize(img, (192, 48), interpolation=cv2.INTER_LINEAR)
    img = (img.astype(np.float32) * np.float32(1 / 255) - np.float32(0.5)) / np.float32(0.5)
    return img.transpose(2, 0, 1)


def main():
    d = os.path.join(HERE, "ch_ppocr_cls_legacy")
    cfg = inference.Config(os.path.join(d, "inference.pdmodel"), os.path.join(d, "inference.pdiparams"))
    cfg.disable_gpu()
    cfg.disable_mkldnn()
    cfg.switch_ir_optim(False)
    pred = inference.create_predictor(cfg)
    out = {}
    for name in NAMES:
        x = preprocess(os.path.join(PHOTOS, name))[None]
        h = pred.get_input_handle("x")
        h.reshape(list(x.shape))
        h.copy_from_cpu(np.ascontiguousarray(x))
        pred.run()
        p = pred.get_output_handle(pred.get_output_names()[0]).copy_to_cpu()[0]
        top = np.argsort(-p, kind="stable")
        out[name] = {"class_ids": [int(i) for i in top], "scores": [float(p[i]) for i in top]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
