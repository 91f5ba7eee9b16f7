"""A folder through paddlex_rs's Python API against the real PaddleX's, in
the same window: alternating rounds, one fresh process per run, medians of
the whole process's wall time, of `predict` alone, and of the peak RSS.

usage: python benches/pyapi_compare.py --rs-python PY --paddlex-python PY
           --photos DIR [--rounds N] [--save [--font TTF]]

`--rs-python`: a Python with paddlex_rs installed (a release build);
`--paddlex-python`: one with paddlepaddle 3.3.1 + paddlex[cv] 3.3.13. Both
run the same model: the Paddle-format fixture `tests/data/paddle/pplcnet_p33`
under PaddleX's name PP-LCNet_x0_5 (as the API goldens do; resize 72, crop
64, so the work is mostly decoding), with the pipeline YAML's batch size 4
and the CPU. PaddleX runs offline (hoster probe off, a temporary cache).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "data" / "paddle" / "pplcnet_p33"
NAME = "PP-LCNet_x0_5"

CHILD = """
import json, sys, time
t0 = time.perf_counter()
import {module} as paddlex
t1 = time.perf_counter()
config = json.loads(sys.argv[1])
pipeline = paddlex.create_pipeline(config=config, device="cpu")
t2 = time.perf_counter()
n = 0
for res in pipeline.predict(sys.argv[2]):
    n += 1
    if sys.argv[3]:
        res.save_all(sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "create": t2 - t1, "predict": t3 - t2, "n": n}}))
"""


def model_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("inference.json", "inference.pdiparams"):
        shutil.copy(FIXTURE / name, dest / name)
    yml = (FIXTURE / "inference.yml").read_text()
    (dest / "inference.yml").write_text(yml.replace("model_name: pplcnet_p33", f"model_name: {NAME}"))
    return dest


def config(model_dir: Path) -> str:
    return json.dumps(
        {
            "pipeline_name": "image_classification",
            "SubModules": {
                "ImageClassification": {
                    "module_name": "image_classification",
                    "model_name": NAME,
                    "model_dir": str(model_dir),
                    "batch_size": 4,
                    "topk": 5,
                }
            },
        }
    )


def run(python, module, cfg, photos, save_dir, env):
    if save_dir:
        shutil.rmtree(save_dir, ignore_errors=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", CHILD.format(module=module), cfg, str(photos), save_dir or ""],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{module} failed (status {status})")
    times = json.loads(out.decode().strip().splitlines()[-1])
    return {"wall": wall, "rss_mb": usage.ru_maxrss / 1024, **times}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rs-python", required=True)
    ap.add_argument("--paddlex-python", required=True)
    ap.add_argument("--photos", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--font", help="a TTF for PaddleX's drawing (it downloads its font otherwise)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pyapi-bench-"))
    rs_env = dict(os.environ)
    rs_env.setdefault("PADDLE_PDX_CACHE_HOME", str(ROOT / "target" / "tmp" / "paddlex-cache"))
    pdx_env = dict(os.environ, PADDLE_PDX_CACHE_HOME=str(work / "pdx-cache"),
                   PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK="True")
    if args.font:
        pdx_env["PADDLE_PDX_LOCAL_FONT_FILE_PATH"] = args.font
    cases = {
        "paddlex_rs": (args.rs_python, "paddlex_rs", config(model_copy(work / "m-rs")), rs_env),
        "PaddleX 3.3.13": (args.paddlex_python, "paddlex", config(model_copy(work / "m-pdx")), pdx_env),
    }
    results = {k: [] for k in cases}
    # One warm-up each (the engine converts the Paddle model on first use; caches fill).
    for name, (py, mod, cfg, env) in cases.items():
        run(py, mod, cfg, args.photos, None, env)
    for r in range(args.rounds):
        for name, (py, mod, cfg, env) in cases.items():
            save = str(work / f"out-{name[:3]}") if args.save else None
            res = run(py, mod, cfg, args.photos, save, env)
            results[name].append(res)
            print(f"round {r + 1} {name}: {json.dumps({k: round(v, 3) for k, v in res.items()})}", flush=True)
    print(f"\nmedians over {args.rounds} rounds ({'with' if args.save else 'without'} save_all):")
    print("| case | whole process | import | create_pipeline | predict (list) | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rows in results.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("wall", "import", "create", "predict", "rss_mb")}
        print(f"| {name} | {med['wall']:.2f} s | {med['import']:.3f} s | {med['create']:.2f} s | "
              f"{med['predict']:.2f} s | {med['rss_mb']:.0f} MB |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
