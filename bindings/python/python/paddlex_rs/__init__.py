"""paddlex_rs: PaddleX 3.3's Python API for image classification, on the
native paddlex-rs engine (ONNX Runtime instead of Paddle).

Switch a PaddleX script with one line, ``import paddlex_rs as paddlex``, or
run it unchanged with ``python -m paddlex_rs.run script.py``. This package
never installs an importable ``paddlex`` module.

Importing is cheap: the engine, numpy and ONNX Runtime are loaded on first
use, and nothing touches the network until a model or runtime is missing.
"""

from ._pipeline import (
    ClasPredictor,
    ImageClassificationPipeline,
    PredictError,
    create_model,
    create_pipeline,
    create_predictor,
)
from ._result import TopkResult

__version__ = "0.1.0"

#: The PaddleX release whose Python API this package mirrors.
PADDLEX_COMPAT = "3.3.13"

__all__ = [
    "ClasPredictor",
    "ImageClassificationPipeline",
    "PADDLEX_COMPAT",
    "PredictError",
    "TopkResult",
    "create_model",
    "create_pipeline",
    "create_predictor",
    "install_as_paddlex",
]


def install_as_paddlex():
    """Makes ``import paddlex`` (and ``paddlex.inference``) give this package,
    for the rest of this process. Refuses if the real PaddleX is already imported."""
    import sys

    from . import inference

    current = sys.modules.get("paddlex")
    if current is not None and current is not sys.modules[__name__]:
        raise RuntimeError(
            "the real paddlex is already imported in this process; "
            "install_as_paddlex() must run before `import paddlex`"
        )
    sys.modules["paddlex"] = sys.modules[__name__]
    sys.modules["paddlex.inference"] = inference
