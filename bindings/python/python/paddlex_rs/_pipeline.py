"""``create_pipeline``, ``create_model`` and their lazy ``predict`` generators."""

import errno
import glob
import importlib.util
import os
import threading

from . import _log
from ._result import make_result

PIPELINE_NAME = "image_classification"

_runtime_lock = threading.Lock()
_runtime_checked = False


class PredictError(Exception):
    """An input that could not be read or classified (PaddleX raises a plain
    ``Exception("Image read Error: ...")``; this is a subclass of ``Exception``)."""


def _ensure_runtime():
    """Points the engine at an installed ``onnxruntime``/``onnxruntime-gpu``
    wheel's library when ``ORT_DYLIB_PATH`` is unset (without importing the
    wheel). Without one, the engine finds or provisions its own, as the CLI does.
    """
    global _runtime_checked
    with _runtime_lock:
        if _runtime_checked:
            return
        _runtime_checked = True
        if os.environ.get("ORT_DYLIB_PATH"):
            return
        library = installed_onnxruntime_library()
        if library is not None:
            os.environ["ORT_DYLIB_PATH"] = library


def installed_onnxruntime_library():
    """The ``libonnxruntime`` of an installed ``onnxruntime`` wheel, or ``None``."""
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(glob.glob(os.path.join(folder, "capi", "libonnxruntime.so*")))
        found += sorted(glob.glob(os.path.join(folder, "capi", "libonnxruntime*.dylib")))
        found += sorted(glob.glob(os.path.join(folder, "capi", "onnxruntime.dll")))
        if found:
            return found[-1]
    return None


def _split_inputs(inputs):
    """PaddleX's input rules: anything but a list is one input; strings
    (and path-like objects) are paths; numpy arrays are BGR images; other
    types are skipped with PaddleX's warning. Returns the inputs to run and
    the error of the first bad array (raised when the run reaches it)."""
    import numpy as np

    if not isinstance(inputs, list):
        inputs = [inputs]
    items = []
    for item in inputs:
        if isinstance(item, str):
            items.append(item)
        elif isinstance(item, os.PathLike):
            items.append(os.fspath(item))
        elif isinstance(item, np.ndarray):
            error = _array_error(item)
            if error is not None:
                return items, error
            items.append(item)
        else:
            _log.warning(
                "Not supported input data type! Only `numpy.ndarray` and `str` are supported! "
                f"So has been ignored: {item}."
            )
    return items, None


def _array_error(array):
    if array.dtype.name != "uint8":
        return TypeError(
            f"an image array must be uint8 (BGR, as PaddleX reads images), got {array.dtype}"
        )
    if array.ndim != 3 or array.shape[2] not in (3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        return ValueError(
            f"an image array must be H×W×3 (BGR) or H×W×4 (BGRA), got shape {array.shape}"
        )
    return None


def _generate(owner, inputs, topk):
    """The lazy part of ``predict``: nothing is read before the first ``next()``."""
    owner._check_process()
    items, bad = _split_inputs(inputs)
    native = owner._native
    if items:
        run = native.run(items, native.resolve_topk(topk))
        while True:
            chunk = run.next_chunk()
            if chunk is None:
                break
            for entry in chunk:
                if entry[0]:
                    yield make_result(*entry[1:])
                else:
                    raise _input_error(*entry[1:])
    if bad is not None:
        raise bad


def _input_error(input_path, page_index, reason, missing):
    if missing:
        return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), input_path)
    where = input_path if page_index is None else f"{input_path} (page {page_index})"
    return PredictError(f"Image read Error: {where}: {reason}")


class _Base:
    def __init__(self, native):
        self._native = native
        self._pid = os.getpid()

    def _check_process(self):
        if os.getpid() != self._pid:
            raise RuntimeError(
                "this pipeline was created in another process (before a fork); its inference "
                "threads did not survive the fork: create the pipeline in the child process"
            )


class ImageClassificationPipeline(_Base):
    """PaddleX's ``image_classification`` pipeline (``create_pipeline``'s result)."""

    def __init__(self, native, topk):
        super().__init__(native)
        self.topk = topk

    @property
    def batch_size(self):
        """The batch size from the pipeline config."""
        return self._native.batch_size

    def predict(self, input, **kwargs):
        """A generator of ``TopkResult``, one per image, in input order.

        ``input``: a path (file, folder, URL, PDF), a BGR ``uint8`` array, or
        a list of these. Only the ``topk`` keyword is used; the others
        (``batch_size``, ``device``...) are ignored, as in PaddleX.
        """
        topk = kwargs.pop("topk", self.topk)
        return _generate(self, input, topk)

    __call__ = predict

    def close(self):
        """Does nothing (PaddleX's ``close`` does nothing either)."""


class ClasPredictor(_Base):
    """A single classification model (``create_model``'s result)."""

    def __init__(self, native, model_name, topk):
        super().__init__(native)
        self.model_name = model_name
        self.topk = topk

    @property
    def batch_size(self):
        """The batch size (changed by ``predict(..., batch_size=n)``, which persists)."""
        return self._native.batch_size

    def predict(self, input, batch_size=None, topk=None, **kwargs):
        """A generator of ``TopkResult``; ``batch_size`` persists for later calls."""
        if batch_size is not None:
            self._native.set_batch_size(int(batch_size))
        if kwargs:
            return _fail_lazily(
                TypeError(f"predict() got unexpected keyword arguments: {sorted(kwargs)}")
            )
        return _generate(self, input, topk or self.topk)

    __call__ = predict

    def close(self):
        """Does nothing."""


def _fail_lazily(error):
    raise error
    yield  # pragma: no cover - makes this a generator


def create_pipeline(
    pipeline=None,
    config=None,
    device=None,
    pp_option=None,
    use_hpip=None,
    hpi_config=None,
    *args,
    **kwargs,
):
    """PaddleX's ``create_pipeline`` for ``image_classification``.

    ``pipeline``: the name or a ``.yaml`` path; ``config``: the config as a
    dict (wins over ``pipeline``); ``device``: PaddleX's grammar (``cpu``,
    ``gpu:0``...; default CPU). ``pp_option`` and extra arguments are
    accepted and ignored.
    """
    from . import _native

    if pipeline is None and config is None:
        raise ValueError("Both `pipeline` and `config` cannot be None at the same time.")
    config_text = None
    if config is not None:
        import json

        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        # JSON is YAML: the engine parses it as a pipeline config.
        config_text = json.dumps(config)
    elif os.fspath(pipeline) != PIPELINE_NAME and not str(pipeline).lower().endswith(
        (".yml", ".yaml")
    ) and not os.path.isfile(os.fspath(pipeline)):
        raise Exception(
            f"The pipeline ({pipeline}) does not exist! Please use a pipeline name or a config file path!"
        )
    _ensure_runtime()
    native = _native.NativePipeline.from_pipeline(
        None if pipeline is None else os.fspath(pipeline),
        config_text,
        device,
        use_hpip,
        _hpi_text(hpi_config),
    )
    # The top-k used when a call gives none: the YAML's, else the model's, else 5.
    return ImageClassificationPipeline(native, native.resolve_topk(None))


def create_model(
    model_name,
    model_dir=None,
    *,
    device=None,
    batch_size=1,
    topk=None,
    pp_option=None,
    use_hpip=False,
    hpi_config=None,
    genai_config=None,
):
    """PaddleX's ``create_model`` for classification models.

    ``model_dir`` ``None`` fetches the official model into the cache;
    otherwise its ``inference.yml`` must name ``model_name``
    (``AssertionError`` if not). ``pp_option`` and ``genai_config`` are
    accepted and ignored.
    """
    from . import _native

    _ensure_runtime()
    native = _native.NativePipeline.from_model(
        model_name,
        None if model_dir is None else os.fspath(model_dir),
        device,
        max(1, int(batch_size)),
        topk,
        bool(use_hpip),
        _hpi_text(hpi_config),
    )
    return ClasPredictor(native, model_name, topk)


create_predictor = create_model


def _hpi_text(hpi_config):
    if hpi_config is None:
        return None
    if isinstance(hpi_config, str):
        return hpi_config
    return repr(dict(hpi_config))
