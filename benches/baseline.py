"""The Python baseline: onnxruntime + OpenCV doing PaddleX's preprocessing
(resize short side 256 INTER_LINEAR, centre crop 224, normalise, CHW),
batches of 8, two decode threads. Prints the top-1 of every image on stdout.

usage: python baseline.py <model_dir> <photo_dir>
"""
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import onnxruntime as ort
import yaml

BATCH = 8


def load_config(model_dir):
    with open(os.path.join(model_dir, "inference.yml")) as f:
        cfg = yaml.safe_load(f)
    ops = {list(op)[0]: list(op.values())[0] for op in cfg["PreProcess"]["transform_ops"]}
    norm = ops["NormalizeImage"]
    scale = float(norm["scale"])
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    alpha = (scale / std).astype(np.float32)
    beta = (-mean / std).astype(np.float32)
    return ops["ResizeImage"]["resize_short"], ops["CropImage"]["size"], alpha, beta, cfg["PostProcess"]["Topk"]["label_list"]


def preprocess(path, short, crop, alpha, beta):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    h, w = img.shape[:2]
    s = short / min(h, w)
    nw, nh = round(w * s), round(h * s)
    if (nw, nh) != (w, h):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    x0, y0 = (nw - crop) // 2, (nh - crop) // 2
    img = img[y0:y0 + crop, x0:x0 + crop].astype(np.float32)
    img *= alpha
    img += beta
    return img.transpose(2, 0, 1)


def main():
    model_dir, photo_dir = sys.argv[1], sys.argv[2]
    short, crop, alpha, beta, labels = load_config(model_dir)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(os.environ.get("PADDLE_PDX_CPU_NUM_THREADS", "2"))
    session = ort.InferenceSession(os.path.join(model_dir, "inference.onnx"), opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    paths = sorted(os.path.join(photo_dir, f) for f in os.listdir(photo_dir) if f.lower().endswith((".jpg", ".png")))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i in range(0, len(paths), BATCH):
            chunk = paths[i:i + BATCH]
            batch = np.stack(list(pool.map(lambda p: preprocess(p, short, crop, alpha, beta), chunk)))
            probs = session.run(None, {name: batch})[0]
            for path, row in zip(chunk, probs):
                print(os.path.basename(path), labels[int(np.argmax(row))])


if __name__ == "__main__":
    main()
