"""Runs paddlex-rs and the Python baseline alternately on the same photo set
and prints medians (wall time, peak RSS) and ratios.

usage: python compare.py <paddlex binary> <model_dir> <photo_dir> <single_photo_dir | -> [rounds]

With `-` for the single photo (the 12 MP set): only the folder cases, exact
and --fast_decode, with and without saving.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def measure(cmd, env=None):
    """Wall seconds and peak RSS (MB) of one process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{cmd[0]} failed:\n{err.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def main():
    binary, model_dir, photos, single, *rest = sys.argv[1:]
    rounds = int(rest[0]) if rest else 5
    python = sys.executable
    baseline = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baseline.py")
    out = tempfile.mkdtemp(prefix="paddlex-bench-")
    rs = [binary, "--pipeline", "image_classification", "--input"]
    cases = {
        "paddlex-rs folder": rs + [photos],
        "paddlex-rs folder fast_decode": rs + [photos, "--fast_decode"],
        "python folder": [python, baseline, model_dir, photos],
        "paddlex-rs folder + save": rs + [photos, "--save_path", out],
    }
    if single == "-":
        cases["paddlex-rs folder fast_decode + save"] = rs + [photos, "--fast_decode", "--save_path", out]
    else:
        cases["paddlex-rs one photo + save"] = rs + [single, "--save_path", out]
        cases["python one photo"] = [python, baseline, model_dir, single]
    results = {name: [] for name in cases}
    for _ in range(rounds):
        for name, cmd in cases.items():
            shutil.rmtree(out, ignore_errors=True)
            results[name].append(measure(cmd))
    shutil.rmtree(out, ignore_errors=True)
    med = {name: (statistics.median(w for w, _ in r), max(m for _, m in r)) for name, r in results.items()}
    n = len([f for f in os.listdir(photos)])
    print(f"{n} photos, {rounds} rounds, medians of wall time; peak RSS is the max over rounds")
    for name, (wall, rss) in med.items():
        print(f"  {name:30s} {wall:7.3f} s  {rss:7.1f} MB")
    print(f"speed-up, folder, no save:   {med['python folder'][0] / med['paddlex-rs folder'][0]:.2f}x over the Python baseline")
    print(f"  with --fast_decode:         {med['python folder'][0] / med['paddlex-rs folder fast_decode'][0]:.2f}x over the Python baseline")
    if single == "-":
        return
    print(f"one photo with save:          {med['paddlex-rs one photo + save'][0] / med['python one photo'][0]:.2f} of the Python time")
    # PaddleX 3.3 took 6.3 s with --save_path where this Python script took
    # 1.55 s on the reference machine: scale by this run's Python time.
    paddlex_equivalent = med["python folder"][0] * 6.3 / 1.55
    print(f"folder with save:             {paddlex_equivalent / med['paddlex-rs folder + save'][0]:.2f}x faster than PaddleX's equivalent ({paddlex_equivalent:.2f} s = 6.3/1.55 x the Python run)")


if __name__ == "__main__":
    main()
