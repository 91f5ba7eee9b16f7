"""Top-1 agreement between the exact path and --fast_decode on a photo set,
and the largest score changes (top-1 score of the same photo; any of the
top-5 scores of a class in both top-5 lists).

usage: python fast_agreement.py <paddlex binary> <photo_dir>
"""
import json
import subprocess
import sys


def run(binary, photos, *extra):
    cmd = [binary, "--pipeline", "image_classification", "--input", photos, "--format", "jsonl", *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["input_path"]: r for r in map(json.loads, out.splitlines())}


def main():
    binary, photos = sys.argv[1:3]
    exact, fast = run(binary, photos), run(binary, photos, "--fast_decode")
    assert exact.keys() == fast.keys(), "different inputs"
    same, worst_top1, worst_any = 0, (0.0, ""), (0.0, "")
    for path, e in exact.items():
        f = fast[path]
        same += e["class_ids"][0] == f["class_ids"][0]
        change = abs(e["scores"][0] - f["scores"][0])
        worst_top1 = max(worst_top1, (change, path))
        fs = dict(zip(f["class_ids"], f["scores"]))
        for cid, score in zip(e["class_ids"], e["scores"]):
            if cid in fs:
                worst_any = max(worst_any, (abs(score - fs[cid]), path))
    n = len(exact)
    print(f"{photos}: top-1 agreement {same}/{n} = {100 * same / n:.1f} %")
    print(f"  largest top-1 score change {worst_top1[0]:.5f} ({worst_top1[1]})")
    print(f"  largest change of a top-5 score (class in both) {worst_any[0]:.5f} ({worst_any[1]})")


if __name__ == "__main__":
    main()
