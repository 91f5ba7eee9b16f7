"""Type stubs of ``paddlex_rs``'s public API."""

from os import PathLike
from typing import Any, Generator, Optional, Union

import numpy as np
import numpy.typing as npt

from ._result import TopkResult as TopkResult

__version__: str
PADDLEX_COMPAT: str

_Path = Union[str, PathLike[str]]
_Image = npt.NDArray[np.uint8]
_Input = Union[_Path, _Image, list[Union[_Path, _Image]]]

class PredictError(Exception): ...

class ImageClassificationPipeline:
    topk: Optional[int]
    @property
    def batch_size(self) -> int: ...
    def predict(self, input: _Input, **kwargs: Any) -> Generator[TopkResult, None, None]: ...
    def __call__(self, input: _Input, **kwargs: Any) -> Generator[TopkResult, None, None]: ...
    def close(self) -> None: ...

class ClasPredictor:
    model_name: str
    topk: Optional[int]
    @property
    def batch_size(self) -> int: ...
    def predict(
        self,
        input: _Input,
        batch_size: Optional[int] = None,
        topk: Optional[int] = None,
        **kwargs: Any,
    ) -> Generator[TopkResult, None, None]: ...
    def __call__(
        self,
        input: _Input,
        batch_size: Optional[int] = None,
        topk: Optional[int] = None,
        **kwargs: Any,
    ) -> Generator[TopkResult, None, None]: ...
    def close(self) -> None: ...

def create_pipeline(
    pipeline: Optional[_Path] = None,
    config: Optional[dict[str, Any]] = None,
    device: Optional[str] = None,
    pp_option: Any = None,
    use_hpip: Optional[bool] = None,
    hpi_config: Optional[Union[dict[str, Any], str]] = None,
    *args: Any,
    **kwargs: Any,
) -> ImageClassificationPipeline: ...
def create_model(
    model_name: str,
    model_dir: Optional[_Path] = None,
    *,
    device: Optional[str] = None,
    batch_size: int = 1,
    topk: Optional[int] = None,
    pp_option: Any = None,
    use_hpip: bool = False,
    hpi_config: Optional[Union[dict[str, Any], str]] = None,
    genai_config: Any = None,
) -> ClasPredictor: ...
def create_predictor(
    model_name: str,
    model_dir: Optional[_Path] = None,
    *,
    device: Optional[str] = None,
    batch_size: int = 1,
    topk: Optional[int] = None,
    pp_option: Any = None,
    use_hpip: bool = False,
    hpi_config: Optional[Union[dict[str, Any], str]] = None,
    genai_config: Any = None,
) -> ClasPredictor: ...
def install_as_paddlex() -> None: ...
