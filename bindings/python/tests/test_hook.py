"""Naming: no importable `paddlex` is installed; `python -m paddlex_rs.run`
maps it for one script; the import is fast and offline; the runtime can
come from an installed onnxruntime wheel."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import CACHE, FIXTURE_NAME, PYTHON, python_env

SCRIPT = """
from paddlex import create_pipeline
import paddlex, paddlex.inference
pipeline = create_pipeline(config={config!r})
for res in pipeline.predict({path!r}):
    print(type(res).__name__, paddlex.__name__, res.json["res"]["label_names"][0])
"""


def run_py(args, cwd, env=None):
    return subprocess.run(
        [PYTHON, *args], cwd=cwd, env=env or python_env(), capture_output=True, text=True, timeout=600
    )


def test_run_hook_maps_paddlex_for_the_script(fixture_config, in_imgs, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(config=fixture_config, path=str(in_imgs / "imgs" / "chelsea.png")))
    proc = run_py(["-m", "paddlex_rs.run", str(script)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[:2] == ["TopkResult", "paddlex_rs"]


def test_without_the_hook_paddlex_is_untouched(tmp_path):
    proc = run_py(["-c", "import paddlex_rs, importlib.util as u; print(u.find_spec('paddlex'))"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "None", "no importable paddlex may be installed"


def test_run_hook_without_a_script_shows_usage(tmp_path):
    proc = run_py(["-m", "paddlex_rs.run"], tmp_path)
    assert proc.returncode == 2
    assert "usage" in proc.stderr


def test_import_is_fast_and_loads_nothing_heavy(tmp_path):
    code = textwrap.dedent(
        """
        import sys, time
        t = time.perf_counter()
        import paddlex_rs
        dt = time.perf_counter() - t
        heavy = [m for m in ("numpy", "paddlex_rs._native", "onnxruntime", "PIL") if m in sys.modules]
        print(dt, heavy)
        """
    )
    proc = run_py(["-c", code], tmp_path)
    assert proc.returncode == 0, proc.stderr
    dt, heavy = proc.stdout.split(" ", 1)
    assert float(dt) < 0.5, dt
    assert heavy.strip() == "[]"


def test_runtime_from_an_installed_onnxruntime_wheel(fixture_model, in_imgs, tmp_path):
    # A stand-in for an installed onnxruntime wheel: its layout with the
    # runtime library the CLI provisioned (never imported, only found).
    libs = sorted((CACHE / "runtime").glob("onnxruntime-*/libonnxruntime.so.*"))
    assert libs, f"no provisioned runtime in {CACHE}"
    pkg = tmp_path / "site" / "onnxruntime"
    (pkg / "capi").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('must not be imported')\n")
    os.symlink(libs[-1], pkg / "capi" / libs[-1].name)
    code = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(tmp_path / 'site')!r})
        import paddlex_rs
        m = paddlex_rs.create_model({FIXTURE_NAME!r}, {str(fixture_model)!r})
        (res,) = m.predict({str(in_imgs / 'imgs' / 'chelsea.png')!r})
        print(os.environ["ORT_DYLIB_PATH"])
        """
    )
    env = python_env()
    env.pop("ORT_DYLIB_PATH", None)
    proc = run_py(["-c", code], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()) == pkg / "capi" / libs[-1].name
