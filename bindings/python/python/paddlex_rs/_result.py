"""``TopkResult``: PaddleX's classification result, a ``dict`` with its methods.

The printed line, the JSON bytes and the visualisation come from the
paddlex-rs library (the same code as the CLI), so ``print()``,
``save_to_json()`` and ``save_to_img()`` give the CLI's output byte for byte.
"""

import json as _json
import random
import time

from . import _log

_KEYS = ("input_path", "page_index", "input_img", "class_ids", "scores", "label_names")


class TopkResult(dict):
    """One image's result: a ``dict`` with PaddleX's keys, in PaddleX's order.

    ``input_path`` (``str``, or ``None`` for an array), ``page_index`` (``int``
    for PDF pages, else ``None``), ``input_img`` (RGB ``uint8`` H×W×3),
    ``class_ids`` (``int32``, best first), ``scores`` (``float32``, rounded to
    5 decimals) and ``label_names`` (``list[str]``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The file-name stem of an array's saved files, made once (PaddleX's
        # `<seconds>_<random>`), so that its JSON and image share it.
        self._array_stem = None

    # -- what is shown -------------------------------------------------

    def _fields(self):
        return (
            self.get("page_index"),
            [int(i) for i in self["class_ids"]],
            [float(s) for s in self["scores"]],
            [str(n) for n in self["label_names"]],
        )

    def _plain(self):
        """The result without the image, as plain Python values."""
        page_index, class_ids, scores, label_names = self._fields()
        return {
            "input_path": self.get("input_path"),
            "page_index": page_index,
            "class_ids": class_ids,
            "scores": scores,
            "label_names": label_names,
        }

    @property
    def str(self):
        """``{"res": <this result without input_img>}``."""
        return {"res": TopkResult((k, v) for k, v in self.items() if k != "input_img")}

    @property
    def json(self):
        """``{"res": {...}}`` with plain lists and floats (PaddleX's ``.json``)."""
        return {"res": self._plain()}

    @property
    def img(self):
        """``{"res": PIL.Image}``: the input with the top-1 label drawn, as the CLI draws it.

        Needs Pillow (``pip install paddlex-rs[pil]``); nothing else does.
        """
        try:
            from PIL import Image
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError(
                "TopkResult.img returns PIL images: install Pillow (pip install paddlex-rs[pil])"
            ) from e
        from . import _native

        label, score = self._top1()
        drawn = _native.draw_label(self["input_img"], label, score)
        # An H×W×3 uint8 array is an "RGB" image to Pillow.
        return {"res": Image.fromarray(drawn)}

    def _top1(self):
        names, scores = self["label_names"], self["scores"]
        if len(names) and len(scores):
            return str(names[0]), float(scores[0])
        return "", 0.0

    def print(self, json_format=False, indent=4, ensure_ascii=False):
        """Writes the result to stderr: the CLI's line, or JSON with ``json_format=True``."""
        if json_format:
            text = _json.dumps(self.json, indent=indent, ensure_ascii=ensure_ascii)
        else:
            from . import _native

            page_index, class_ids, scores, label_names = self._fields()
            text = _native.result_line(
                self.get("input_path"), page_index, class_ids, scores, label_names
            )
        _log.info(text)

    # -- saving --------------------------------------------------------

    def _name(self):
        """What stands for the input path in output names."""
        path = self.get("input_path")
        if path is not None:
            return str(path)
        if self._array_stem is None:
            self._array_stem = f"{int(time.time())}_{random.randint(1000, 9999)}"
            _log.warning(
                "There is not input file name as reference for name of saved result file. "
                "So the saved result file would be named with timestamp and random number: "
                f"`{self._array_stem}`."
            )
        return self._array_stem

    def _paths(self, save_path):
        from . import _native

        return _native.output_paths(str(save_path), self._name(), self.get("page_index"))

    def save_to_json(self, save_path, indent=4, ensure_ascii=False, *args, **kwargs):
        """Writes the JSON: to ``save_path`` itself when it ends in ``.json``,
        else to ``<save_path>/<stem>_res.json``.

        With the defaults the bytes are the CLI's (indent 4, UTF-8, no
        trailing newline); other ``indent``/``ensure_ascii`` values use
        Python's ``json`` module.
        """
        json_path, _ = self._paths(save_path)
        if indent == 4 and not ensure_ascii:
            from . import _native

            page_index, class_ids, scores, label_names = self._fields()
            _native.save_json(
                str(json_path), self.get("input_path"), page_index, class_ids, scores, label_names
            )
            return
        import os

        os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
        with open(json_path, "w", encoding="utf-8") as f:
            _json.dump(self._plain(), f, indent=indent, ensure_ascii=ensure_ascii)

    def save_to_img(self, save_path):
        """Writes the visualisation: to ``save_path`` itself when it ends in an
        image suffix, else to ``<save_path>/<stem>_res.<input suffix>``
        (``.png`` for arrays, PDF pages and other suffixes). The CLI's bytes.
        """
        from . import _native

        _, image_path = self._paths(save_path)
        _, class_ids, scores, label_names = self._fields()
        _native.save_image(str(image_path), self["input_img"], class_ids, scores, label_names)

    def save_all(self, save_path):
        """``save_to_json`` then ``save_to_img``, as PaddleX's CLI does."""
        self.save_to_json(save_path)
        self.save_to_img(save_path)


def make_result(input_path, page_index, input_img, class_ids, scores, label_names):
    """A ``TopkResult`` with PaddleX's key order."""
    return TopkResult(zip(_KEYS, (input_path, page_index, input_img, class_ids, scores, label_names)))
