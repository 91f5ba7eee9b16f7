#!/usr/bin/env python3
"""Regenerates cases.txt: expected outputs of cv2.resize / PIL.Image.resize.

The Rust unit tests in src/image/resize/tests.rs rebuild every input image
from the same deterministic patterns (see `make_image`) and compare their own
resize against the values recorded here, so the tests need no Python.

Run with the reference versions (opencv-python-headless 4.10.0, Pillow 13):

    python tests/data/resize/generate.py > tests/data/resize/cases.txt

Line format (space separated):

    backend interp pattern seed src_w src_h dst_w dst_h fnv64 [hex]

`fnv64` is the 64-bit FNV-1a hash of the output buffer (RGB, row major);
`hex` holds the full output bytes for small outputs, to make failures easy
to read.
"""
import sys

import cv2
import numpy as np
from PIL import Image

CV2 = {
    "NEAREST": cv2.INTER_NEAREST,
    "LINEAR": cv2.INTER_LINEAR,
    "AREA": cv2.INTER_AREA,
    "LANCZOS4": cv2.INTER_LANCZOS4,
}
PIL = {
    "NEAREST": Image.NEAREST,
    "BILINEAR": Image.BILINEAR,
    "BICUBIC": Image.BICUBIC,
    "BOX": Image.BOX,
    "LANCZOS4": Image.LANCZOS,
}
MASK64 = (1 << 64) - 1
HEX_LIMIT = 4096  # outputs up to this many bytes are stored in full


def lcg_bytes(seed, n):
    """n bytes from a 64-bit LCG (Knuth's MMIX constants), top byte of each
    state; identical to `lcg_bytes` in the Rust tests."""
    out = np.empty(n, np.uint8)
    state = seed & MASK64
    for i in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & MASK64
        out[i] = state >> 56
    return out


def make_image(pattern, seed, w, h):
    """The test input: an (h, w, 3) uint8 array."""
    if pattern == "grad":
        # A smooth-ish gradient with a multiplicative term, so neighbouring
        # pixels differ by varying amounts.
        y, x, c = np.mgrid[0:h, 0:w, 0:3].astype(np.int64)
        return ((x * 37 + y * 91 + c * 53 + x * y) % 256).astype(np.uint8)
    if pattern == "lcg":
        return lcg_bytes(seed, w * h * 3).reshape(h, w, 3)
    if pattern == "bin":
        # Only 0 and 255: extreme values exercise rounding and saturation.
        return np.where(lcg_bytes(seed, w * h * 3) >= 128, 255, 0).astype(np.uint8).reshape(h, w, 3)
    if pattern == "white":
        return np.full((h, w, 3), 255, np.uint8)
    raise ValueError(pattern)


def fnv64(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def reference(backend, interp, img, dw, dh):
    if backend == "cv2":
        return cv2.resize(img, (dw, dh), interpolation=CV2[interp])
    return np.asarray(Image.fromarray(img).resize((dw, dh), PIL[interp]))


# (backend, interp, pattern, seed, sw, sh, dw, dh)
CASES = []


def add(backend, interps, pattern, seed, sw, sh, dw, dh):
    for interp in interps.split(","):
        CASES.append((backend, interp, pattern, seed, sw, sh, dw, dh))


# --- cv2 LINEAR: the default PaddleX resize.
add("cv2", "LINEAR", "grad", 0, 23, 17, 61, 45)  # upscale
add("cv2", "LINEAR", "lcg", 1, 97, 73, 31, 22)  # downscale, odd sizes
add("cv2", "LINEAR", "lcg", 2, 20, 50, 47, 13)  # x up, y down
add("cv2", "LINEAR", "lcg", 3, 50, 20, 13, 47)  # x down, y up
add("cv2", "LINEAR", "lcg", 4, 1, 9, 5, 4)  # 1 pixel wide source
add("cv2", "LINEAR", "lcg", 5, 9, 1, 4, 5)  # 1 pixel tall source
add("cv2", "LINEAR", "lcg", 6, 1, 1, 3, 2)
add("cv2", "LINEAR", "lcg", 7, 9, 7, 1, 1)  # to a single pixel
add("cv2", "LINEAR", "lcg", 8, 9, 7, 1, 6)
add("cv2", "LINEAR", "lcg", 9, 16, 12, 16, 12)  # same size: copy
add("cv2", "LINEAR", "lcg", 10, 64, 48, 32, 24)  # exact 2x: box average path
add("cv2", "LINEAR", "lcg", 11, 66, 48, 33, 16)  # 2x and 3x: bilinear
add("cv2", "LINEAR", "bin", 12, 31, 29, 77, 70)  # extreme values, upscale
add("cv2", "LINEAR", "white", 0, 13, 11, 40, 37)  # saturation at 255
add("cv2", "LINEAR", "lcg", 13, 3000, 2000, 384, 256)  # large factor
add("cv2", "LINEAR", "grad", 0, 640, 480, 1280, 960)  # 2x upscale
add("cv2", "LINEAR", "grad", 0, 500, 375, 341, 256)  # short side 256
# --- cv2 NEAREST / AREA / LANCZOS4
add("cv2", "NEAREST", "lcg", 20, 37, 29, 11, 71)
add("cv2", "NEAREST", "lcg", 21, 100, 75, 33, 25)
add("cv2", "AREA", "lcg", 22, 60, 45, 20, 15)  # integer 3x
add("cv2", "AREA", "lcg", 23, 60, 44, 30, 22)  # integer 2x
add("cv2", "AREA", "lcg", 24, 97, 73, 31, 22)  # fractional
add("cv2", "AREA", "lcg", 25, 23, 17, 61, 45)  # upscale (bilinear emulation)
add("cv2", "AREA", "lcg", 26, 40, 17, 13, 45)  # x down, y up
add("cv2", "LANCZOS4", "lcg", 27, 37, 29, 61, 20)
add("cv2", "LANCZOS4", "bin", 28, 45, 31, 20, 77)
# --- pil BICUBIC: PaddleX's PP-HGNet / ConvNeXt / Swin preprocessing.
add("pil", "BICUBIC", "grad", 0, 23, 17, 61, 45)  # upscale
add("pil", "BICUBIC", "lcg", 30, 97, 73, 31, 22)  # downscale, horizontal first
add("pil", "BICUBIC", "lcg", 31, 40, 90, 35, 20)  # vertical pass first (Pillow 13)
add("pil", "BICUBIC", "lcg", 32, 50, 20, 13, 20)  # x only
add("pil", "BICUBIC", "lcg", 33, 20, 50, 20, 13)  # y only
add("pil", "BICUBIC", "lcg", 34, 16, 12, 16, 12)  # same size: copy
add("pil", "BICUBIC", "bin", 35, 31, 29, 77, 70)  # overshoot clipping
add("pil", "BICUBIC", "lcg", 36, 1, 9, 5, 4)
add("pil", "BICUBIC", "lcg", 37, 1200, 900, 309, 232)  # resize_short 232
add("pil", "BICUBIC", "grad", 0, 500, 375, 309, 232)
# --- other pil filters
add("pil", "BILINEAR,BOX,LANCZOS4,NEAREST", "lcg", 40, 97, 73, 31, 22)
add("pil", "BILINEAR,BOX,LANCZOS4,NEAREST", "lcg", 41, 23, 17, 61, 45)
add("pil", "BILINEAR,LANCZOS4", "lcg", 42, 40, 90, 35, 20)


def main():
    out = sys.stdout
    for backend, interp, pattern, seed, sw, sh, dw, dh in CASES:
        img = make_image(pattern, seed, sw, sh)
        res = np.ascontiguousarray(reference(backend, interp, img, dw, dh))
        data = res.tobytes()
        assert len(data) == dw * dh * 3
        line = f"{backend} {interp} {pattern} {seed} {sw} {sh} {dw} {dh} {fnv64(data):016x}"
        if len(data) <= HEX_LIMIT:
            line += " " + data.hex()
        out.write(line + "\n")


if __name__ == "__main__":
    main()
