"""``paddlex.inference``'s names that classification scripts import."""

from .._pipeline import create_model, create_pipeline, create_predictor

__all__ = ["PaddlePredictorOption", "create_model", "create_pipeline", "create_predictor"]


class PaddlePredictorOption:
    """Accepted for compatibility (``pp_option=``) and ignored: the engine
    runs ONNX Runtime, whose threads and device come from ``device``."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = dict(kwargs)
