"""Type stubs of the Rust extension module (``bindings/python/src/lib.rs``)."""

from os import PathLike
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

ORT_VERSION: str

_Entry = tuple[Any, ...]

class NativeRun:
    def next_chunk(self) -> Optional[list[_Entry]]: ...

class NativePipeline:
    @staticmethod
    def from_pipeline(
        pipeline: Optional[str] = None,
        config_text: Optional[str] = None,
        device: Optional[str] = None,
        use_hpip: Optional[bool] = None,
        hpi_config: Optional[str] = None,
    ) -> NativePipeline: ...
    @staticmethod
    def from_model(
        model_name: str,
        model_dir: Optional[Union[str, PathLike[str]]] = None,
        device: Optional[str] = None,
        batch_size: int = 1,
        topk: Optional[int] = None,
        use_hpip: bool = False,
        hpi_config: Optional[str] = None,
    ) -> NativePipeline: ...
    @property
    def model_name(self) -> str: ...
    @property
    def model_dir(self) -> Path: ...
    @property
    def batch_size(self) -> int: ...
    def set_batch_size(self, batch_size: int) -> None: ...
    def resolve_topk(self, topk: Optional[int]) -> int: ...
    def run(self, inputs: Sequence[Union[str, npt.NDArray[np.uint8]]], k: int) -> NativeRun: ...

def result_line(
    input_path: Optional[str],
    page_index: Optional[int],
    class_ids: Sequence[int],
    scores: Sequence[float],
    label_names: Sequence[str],
) -> str: ...
def save_json(
    path: str,
    input_path: Optional[str],
    page_index: Optional[int],
    class_ids: Sequence[int],
    scores: Sequence[float],
    label_names: Sequence[str],
) -> None: ...
def output_paths(save_path: str, name: str, page_index: Optional[int]) -> tuple[Path, Path]: ...
def draw_label(input_img: npt.NDArray[np.uint8], label: str, score: float) -> npt.NDArray[np.uint8]: ...
def save_image(
    path: str,
    input_img: npt.NDArray[np.uint8],
    class_ids: Sequence[int],
    scores: Sequence[float],
    label_names: Sequence[str],
) -> None: ...
def log_line(level: str, message: str, colored: bool) -> str: ...
