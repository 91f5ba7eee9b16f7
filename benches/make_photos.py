"""Makes the benchmark photo set: N JPEGs of 0.3-3 MP, cut and rescaled
deterministically from the committed test photos (CC0 / public domain).

usage: python make_photos.py <out_dir> [count]
"""
import os
import sys

import cv2
import numpy as np

SOURCES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png", "camera.png", "doc_0.png", "text.png"]


def main():
    out_dir = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    here = os.path.dirname(os.path.abspath(__file__))
    photos = os.path.join(here, "..", "tests", "data", "photos")
    images = [cv2.imread(os.path.join(photos, name), cv2.IMREAD_COLOR) for name in SOURCES]
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20261128)
    for i in range(count):
        img = images[i % len(images)]
        h, w = img.shape[:2]
        # A crop of 60-100 % of each side, then a rescale to 0.3-3 megapixels.
        cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        crop = img[y0:y0 + ch, x0:x0 + cw]
        megapixels = rng.uniform(0.3, 3.0)
        scale = (megapixels * 1e6 / (cw * ch)) ** 0.5
        size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
        out = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(os.path.join(out_dir, f"photo_{i:04d}.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()
