#!/usr/bin/env python3
"""Writes the JPEG exactness corpus and what cv2.imread makes of each file.

Usage (from the repository root):

    python3 -m venv /tmp/jpeg-venv
    /tmp/jpeg-venv/bin/pip install opencv-python-headless==4.10.0.84 pillow==11.3.0 numpy==2.2.6
    /tmp/jpeg-venv/bin/python tests/data/jpeg/generate.py

It rewrites tests/data/jpeg/corpus/*.jpg and tests/data/jpeg/expected.txt:
one line per file, `name width height sha256`, the SHA-256 of
`cv2.imread(path, cv2.IMREAD_COLOR)[:, :, ::-1]` (RGB, rows top to bottom,
EXIF orientation applied), or `name none` where cv2.imread gives None.
The encoder output depends on the library versions; the reference pixels
only on libjpeg-turbo's decoder arithmetic, which is the same from 2.0.3 on.
"""

import hashlib
import io
import os
import sys

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# cv2's IMWRITE_JPEG_SAMPLING_FACTOR values.
SAMPLINGS = {
    "444": 0x111111,
    "422": 0x211111,
    "420": 0x221111,
    "440": 0x121111,
    "411": 0x411111,
}


def photo(width, height, seed=1):
    """A small synthetic 'photo': gradients, texture, noise, hard edges and
    saturated colours (so clamping, ringing and chroma edges all happen)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 110 * np.sin(x / 7.0 + y / 23.0)
    g = 128 + 110 * np.cos(y / 5.0 - x / 31.0)
    b = 255.0 * (x + y) / max(width + height - 2, 1)
    img = np.stack([b, g, r], axis=-1)  # BGR for cv2
    img += rng.normal(0, 18, img.shape)
    h2, w2 = height // 2, width // 2
    img[h2 // 2 : h2, w2 // 2 : w2] = (0, 0, 255)  # saturated red block
    img[h2 : h2 + max(h2 // 3, 1), w2:] = (255, 255, 255)
    img[:, w2 // 3 : w2 // 3 + 2] = 0  # thin dark line
    return np.clip(img, 0, 255).astype(np.uint8)


def cv2_jpeg(img, quality=90, sampling="420", progressive=False, rst=0):
    params = [
        cv2.IMWRITE_JPEG_QUALITY, quality,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SAMPLINGS[sampling],
        cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive),
        cv2.IMWRITE_JPEG_RST_INTERVAL, rst,
    ]
    ok, buf = cv2.imencode(".jpg", img, params)
    assert ok
    return buf.tobytes()


def pil_jpeg(img, mode="RGB", exif=None, **kw):
    pil = Image.fromarray(img[:, :, ::-1].copy()).convert(mode)
    out = io.BytesIO()
    if exif is not None:
        kw["exif"] = exif
    pil.save(out, "JPEG", **kw)
    return out.getvalue()


def corpus():
    """(name, bytes) for every file."""
    files = []
    base = photo(61, 45)
    # Sampling x baseline/progressive x restart interval x quality.
    for sampling in SAMPLINGS:
        for progressive in (False, True):
            for rst in (0, 3):
                for quality in (50, 90, 100):
                    kind = "prog" if progressive else "base"
                    name = f"cv_{sampling}_{kind}_rst{rst}_q{quality}.jpg"
                    files.append((name, cv2_jpeg(base, quality, sampling, progressive, rst)))
    # Odd sizes from 1x1, every sampling, both modes.
    for w, h in [(1, 1), (2, 2), (3, 5), (17, 9), (9, 17), (33, 31)]:
        img = photo(w, h, seed=w * 100 + h)
        for sampling in SAMPLINGS:
            for progressive in (False, True):
                kind = "prog" if progressive else "base"
                name = f"size_{w}x{h}_{sampling}_{kind}.jpg"
                files.append((name, cv2_jpeg(img, 85, sampling, progressive)))
    # One larger file of each mode, for real-sized MCU rows.
    big = photo(257, 191, seed=7)
    for sampling in ("420", "444"):
        for progressive in (False, True):
            kind = "prog" if progressive else "base"
            files.append((f"big_{sampling}_{kind}.jpg", cv2_jpeg(big, 92, sampling, progressive)))
    # Grey.
    grey = cv2.cvtColor(photo(45, 37, seed=3), cv2.COLOR_BGR2GRAY)
    for progressive in (False, True):
        kind = "prog" if progressive else "base"
        ok, buf = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
        assert ok
        files.append((f"grey_{kind}.jpg", buf.tobytes()))
    # Pillow: subsampling, optimize, progressive, CMYK, grey.
    pil_src = photo(53, 39, seed=5)
    for subsampling in (0, 1, 2):
        files.append((f"pil_sub{subsampling}.jpg", pil_jpeg(pil_src, quality=88, subsampling=subsampling)))
        files.append((f"pil_sub{subsampling}_opt.jpg", pil_jpeg(pil_src, quality=88, subsampling=subsampling, optimize=True)))
        files.append((f"pil_sub{subsampling}_prog.jpg", pil_jpeg(pil_src, quality=88, subsampling=subsampling, progressive=True)))
    files.append(("pil_grey.jpg", pil_jpeg(pil_src, mode="L", quality=80)))
    files.append(("pil_cmyk.jpg", pil_jpeg(pil_src, mode="CMYK", quality=90)))
    files.append(("pil_cmyk_prog.jpg", pil_jpeg(pil_src, mode="CMYK", quality=75, progressive=True)))
    files.append(("pil_cmyk_odd.jpg", pil_jpeg(photo(13, 7, seed=9), mode="CMYK", quality=95)))
    # EXIF orientations 1-8 (a non-square image, so the turns show).
    exif_src = photo(23, 14, seed=11)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        files.append((f"exif_{orientation}.jpg", pil_jpeg(exif_src, quality=90, exif=exif.tobytes())))
    # Truncated baseline and progressive files: decoded to the part that is there.
    trunc_src = photo(96, 64, seed=13)
    for sampling in ("444", "420", "440"):
        for progressive in (False, True):
            kind = "prog" if progressive else "base"
            whole = cv2_jpeg(trunc_src, 90, sampling, progressive)
            for percent in (30, 60, 90):
                cut = whole[: len(whole) * percent // 100]
                files.append((f"trunc_{sampling}_{kind}_{percent}.jpg", cut))
    # A header cut short: cv2.imread gives None.
    files.append(("trunc_header.jpg", cv2_jpeg(trunc_src)[:100]))
    return files


def expected_line(name, path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        return f"{name} none"
    rgb = np.ascontiguousarray(img[:, :, ::-1])
    h, w = rgb.shape[:2]
    return f"{name} {w} {h} {hashlib.sha256(rgb.tobytes()).hexdigest()}"


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for old in os.listdir(CORPUS):
        os.remove(os.path.join(CORPUS, old))
    lines = []
    total = 0
    for name, data in corpus():
        path = os.path.join(CORPUS, name)
        with open(path, "wb") as f:
            f.write(data)
        total += len(data)
        lines.append(expected_line(name, path))
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write(f"# cv2.imread(IMREAD_COLOR) RGB SHA-256 per file; OpenCV {cv2.__version__}\n")
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
