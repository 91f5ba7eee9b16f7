"""Small helpers shared by the tests."""

import numpy as np
from PIL import Image


def read_rgb(path):
    """A PNG's pixels as RGB uint8 H×W×3 (lossless, so the same as OpenCV's decode)."""
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def read_bgr(path):
    """A PNG as PaddleX users pass arrays: BGR, contiguous."""
    return np.ascontiguousarray(read_rgb(path)[:, :, ::-1])
