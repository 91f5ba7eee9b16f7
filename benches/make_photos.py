"""Makes a benchmark photo set, cut and rescaled deterministically from the
committed test photos (CC0 / public domain); nothing is downloaded.

usage: python make_photos.py <out_dir> [count] [--size WxH]

Without --size: N JPEGs of 0.3-3 MP (the 200-photo set). With --size, e.g.
4000x3000: N "phone photos" of exactly that size, every third one portrait
(HxW), with a little sensor-like noise so that they compress like real
photos rather than like smooth upscales (about 1.4 MB each at quality 90;
real 12 MP phone photos are often 2-5 MB, more entropy-decoding work).
"""
import argparse
import os

import cv2
import numpy as np

SOURCES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png", "camera.png", "doc_0.png", "text.png"]


def random_crop(img, rng, aspect=None):
    """A crop of 60-100 % of each side; with `aspect` (w/h), of that shape."""
    h, w = img.shape[:2]
    cw, ch = int(w * rng.uniform(0.6, 1.0)), int(h * rng.uniform(0.6, 1.0))
    if aspect is not None:
        if cw / ch > aspect:
            cw = max(1, round(ch * aspect))
        else:
            ch = max(1, round(cw / aspect))
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return img[y0:y0 + ch, x0:x0 + cw]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("count", nargs="?", type=int, default=200)
    parser.add_argument("--size", help="WxH: every photo exactly this size (every third one HxW)")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    photos = os.path.join(here, "..", "tests", "data", "photos")
    images = [cv2.imread(os.path.join(photos, name), cv2.IMREAD_COLOR) for name in SOURCES]
    os.makedirs(args.out_dir, exist_ok=True)
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
        rng = np.random.default_rng(20261203)
    else:
        rng = np.random.default_rng(20261128)
    for i in range(args.count):
        img = images[i % len(images)]
        if args.size:
            size = (height, width) if i % 3 == 2 else (width, height)
            crop = random_crop(img, rng, aspect=size[0] / size[1])
            out = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
            noise = rng.normal(0.0, 3.0, out.shape).astype(np.float32)
            out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
        else:
            crop = random_crop(img, rng)
            ch, cw = crop.shape[:2]
            megapixels = rng.uniform(0.3, 3.0)
            scale = (megapixels * 1e6 / (cw * ch)) ** 0.5
            size = (max(1, round(cw * scale)), max(1, round(ch * scale)))
            out = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
        cv2.imwrite(os.path.join(args.out_dir, f"photo_{i:04d}.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 90])


if __name__ == "__main__":
    main()
