"""Shared fixtures for the paddlex_rs tests.

The tests need the built module (``maturin develop``), the CLI binary
(``target/debug/paddlex``, built by ``cargo test``; ``PADDLEX_RS_CLI`` names
another) and the model cache the Rust tests use (``target/tmp/paddlex-cache``,
provisioned from the package index when empty). Nothing here skips: what is
missing fails the test run.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PHOTOS = ROOT / "tests" / "data" / "photos"
EXPECTED = ROOT / "tests" / "data" / "expected"
FIXTURE = ROOT / "tests" / "data" / "paddle" / "pplcnet_p33"
GOLDENS = Path(__file__).resolve().parent / "data" / "pyapi_3313" / "goldens.json"
CACHE = Path(os.environ.get("PADDLEX_RS_TEST_CACHE", ROOT / "target" / "tmp" / "paddlex-cache"))
DOC_MODEL = "PP-LCNet_x1_0_doc_ori"
FIXTURE_NAME = "PP-LCNet_x0_5"

# Never the user's ~/.paddlex; the same cache as the Rust integration tests.
os.environ["PADDLE_PDX_CACHE_HOME"] = str(CACHE)
os.environ.pop("ORT_DYLIB_PATH", None)
os.environ.pop("PADDLE_PDX_LOCAL_FONT_FILE_PATH", None)
os.environ.pop("NO_COLOR", None)


def cli_path() -> Path:
    return Path(os.environ.get("PADDLEX_RS_CLI", ROOT / "target" / "debug" / "paddlex"))


@pytest.fixture(scope="session")
def cli():
    path = cli_path()
    assert path.is_file(), f"the CLI binary is missing ({path}): run `cargo build` first"
    return path


def run_cli(args, cwd, env_extra=None):
    """Runs the CLI with the test cache, no colours; returns the completed process."""
    env = dict(os.environ)
    env["PADDLE_PDX_CACHE_HOME"] = str(CACHE)
    env.update(env_extra or {})
    return subprocess.run(
        [str(cli_path()), *args], cwd=cwd, env=env, capture_output=True, timeout=600
    )


def pipeline_yaml(dir: Path, model_name: str, model_dir=None, batch_size=4, topk="5") -> Path:
    """A pipeline YAML in `dir` (the Rust tests' helper, in Python)."""
    shown = "null" if model_dir is None else f"'{model_dir}'"
    text = (
        "pipeline_name: image_classification\nSubModules:\n  ImageClassification:\n"
        f"    module_name: image_classification\n    model_name: {model_name}\n"
        f"    model_dir: {shown}\n    batch_size: {batch_size}\n    topk: {topk}\n"
    )
    path = dir / f"{model_name}-{batch_size}-{topk}.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def goldens():
    return json.loads(GOLDENS.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def fixture_model(tmp_path_factory):
    """The Paddle-format fixture under PaddleX's registered name, as the golden generator made it."""
    dest = tmp_path_factory.mktemp("model") / "pplcnet"
    dest.mkdir()
    for name in ("inference.json", "inference.pdiparams"):
        shutil.copy(FIXTURE / name, dest / name)
    yml = (FIXTURE / "inference.yml").read_text()
    (dest / "inference.yml").write_text(
        yml.replace("model_name: pplcnet_p33", f"model_name: {FIXTURE_NAME}")
    )
    return dest


@pytest.fixture(scope="session")
def fixture_config(fixture_model):
    return {
        "pipeline_name": "image_classification",
        "SubModules": {
            "ImageClassification": {
                "module_name": "image_classification",
                "model_name": FIXTURE_NAME,
                "model_dir": str(fixture_model),
                "batch_size": 4,
                "topk": 5,
            }
        },
    }


@pytest.fixture(scope="session")
def fixture_pipeline(fixture_config):
    import paddlex_rs

    return paddlex_rs.create_pipeline(config=fixture_config, device="cpu")


@pytest.fixture(scope="session")
def imgs(tmp_path_factory):
    """A folder holding `imgs/` with the test photos (inputs are given as `imgs/<name>`)."""
    base = tmp_path_factory.mktemp("work")
    (base / "imgs").mkdir()
    for p in PHOTOS.iterdir():
        if p.suffix in (".png", ".jpg"):
            shutil.copy(p, base / "imgs" / p.name)
    return base


@pytest.fixture()
def in_imgs(imgs, monkeypatch):
    """Runs the test from the folder holding `imgs/`."""
    monkeypatch.chdir(imgs)
    return imgs


@pytest.fixture(scope="session")
def doc_yaml(tmp_path_factory):
    return pipeline_yaml(tmp_path_factory.mktemp("yaml"), DOC_MODEL, None, 4, "4")


@pytest.fixture(scope="session")
def doc_pipeline(doc_yaml):
    """The real document-orientation model (provisioned into the test cache)."""
    import paddlex_rs

    return paddlex_rs.create_pipeline(pipeline=str(doc_yaml))


def python_env():
    """Environment for child Python processes running paddlex_rs."""
    env = dict(os.environ)
    env["PADDLE_PDX_CACHE_HOME"] = str(CACHE)
    return env


PYTHON = sys.executable
