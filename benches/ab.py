"""A/B of paddlex binaries (or wrapper scripts) on the benchmark folder.

usage: python3 benches/ab.py BIN_A,BIN_B[,...] ROUNDS [extra paddlex args...]
Runs every binary once per round, alternating, on target/bench/photos (or the
folder in AB_INPUT) with the environment as it is (set
PADDLE_PDX_CACHE_HOME=target/bench/cache), and prints
the median and fastest wall time and the peak RSS of each.
"""
import os
import statistics
import subprocess
import sys
import time


def main():
    binaries = sys.argv[1].split(",")
    rounds = int(sys.argv[2])
    extra = sys.argv[3:]
    times = {b: [] for b in binaries}
    peak = {b: 0 for b in binaries}
    for _ in range(rounds):
        for b in binaries:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [b, "--pipeline", "image_classification", "--input", os.environ.get("AB_INPUT", "target/bench/photos"), *extra],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _, status, usage = os.wait4(proc.pid, 0)
            times[b].append(time.perf_counter() - start)
            if status != 0:
                sys.exit(f"{b} failed with status {status}")
            peak[b] = max(peak[b], usage.ru_maxrss)
    for b in binaries:
        print(f"{b}: median {statistics.median(times[b]):.3f} s  fastest {min(times[b]):.3f} s  "
              f"peak RSS {peak[b] / 1024:.0f} MB")


if __name__ == "__main__":
    main()
