"""Records what the real PaddleX 3.3.13 Python API returns, for the
paddlex_rs tests (see README.md here for the versions and how to run it).

PaddleX runs offline: the model is a local Paddle-format directory (the
converter fixture `tests/data/paddle/pplcnet_p33`, random weights, 10
classes), registered under a real PaddleX model name so that PaddleX
accepts it; the cache is a temporary folder.

Usage (from the repository root):
    /path/to/venv/bin/python bindings/python/tests/data/pyapi_3313/generate.py
"""

import io
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[4]
FIXTURE = ROOT / "tests" / "data" / "paddle" / "pplcnet_p33"
PHOTOS = ROOT / "tests" / "data" / "photos"
# A PaddleX-registered name for the fixture (PaddleX refuses unknown names).
MODEL_NAME = "PP-LCNet_x0_5"
NAMES = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "doc_90.png", "text.png"]


def model_dir(dest: Path) -> Path:
    """The fixture with `Global.model_name` set to MODEL_NAME (the only change)."""
    dest.mkdir(parents=True)
    for name in ("inference.json", "inference.pdiparams"):
        shutil.copy(FIXTURE / name, dest / name)
    yml = (FIXTURE / "inference.yml").read_text()
    (dest / "inference.yml").write_text(yml.replace("model_name: pplcnet_p33", f"model_name: {MODEL_NAME}"))
    return dest


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="pyapi3313-"))
    os.environ["PADDLE_PDX_CACHE_HOME"] = str(work / "cache")
    os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
    os.environ["NO_COLOR"] = "1"
    os.chdir(work)
    model = model_dir(work / "model")
    imgs = work / "imgs"
    imgs.mkdir()
    for name in NAMES:
        shutil.copy(PHOTOS / name, imgs / name)

    import cv2
    import numpy as np
    import paddle
    import paddlex

    # Capture what `print()` writes through PaddleX's logger.
    captured = io.StringIO()
    for handler in logging.getLogger("paddlex").handlers:
        handler.setStream(captured)

    def printed(res, **kw):
        captured.seek(0)
        captured.truncate()
        res.print(**kw)
        return captured.getvalue()

    config = {
        "pipeline_name": "image_classification",
        "SubModules": {
            "ImageClassification": {
                "module_name": "image_classification",
                "model_name": MODEL_NAME,
                "model_dir": str(model),
                "batch_size": 4,
                "topk": 5,
            }
        },
    }
    pipeline = paddlex.create_pipeline(config=config, device="cpu")
    out = {
        "versions": {
            "paddlex": paddlex.__version__,
            "paddlepaddle": paddle.__version__,
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "python": sys.version.split()[0],
        },
        "model_name": MODEL_NAME,
        "photos": {},
    }
    inputs = [f"imgs/{n}" for n in NAMES]
    results = list(pipeline.predict(inputs))
    first = results[0]
    out["type"] = {
        "result_class": type(first).__name__,
        "is_dict": isinstance(first, dict),
        "keys": list(first.keys()),
        "class_ids_dtype": str(first["class_ids"].dtype),
        "scores_dtype": str(first["scores"].dtype),
        "input_img_dtype": str(first["input_img"].dtype),
        "input_img_shape": list(first["input_img"].shape),
        "str_type": type(first.str).__name__,
        "json_type": type(first.json).__name__,
    }
    for name, res in zip(NAMES, results):
        out["photos"][name] = {
            "json": res.json["res"],
            "print_json_format": printed(res, json_format=True),
        }
    # topk per call.
    out["topk2"] = {n: r.json["res"] for n, r in zip(NAMES, pipeline.predict(inputs, topk=2))}
    # A BGR array gives the file's result, with input_path None.
    arr = cv2.imread(str(imgs / "chelsea.png"))
    (res,) = list(pipeline.predict(arr))
    out["array_chelsea"] = res.json["res"]
    # save_to_json's bytes into a folder.
    save = work / "saved"
    first.save_to_json(str(save))
    out["saved_json_chelsea"] = (save / "chelsea_res.json").read_text(encoding="utf-8")
    # create_model with the model's own default topk.
    model_pred = paddlex.create_model(MODEL_NAME, str(model))
    out["create_model"] = {
        n: r.json["res"] for n, r in zip(NAMES, model_pred.predict(inputs))
    }
    dest = HERE / "goldens.json"
    dest.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
