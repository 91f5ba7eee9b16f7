#!/usr/bin/env bash
# Whole-run benchmark: paddlex-rs (exact and --fast_decode) against a plain
# onnxruntime + OpenCV Python script, alternately, on a generated set of 200
# JPEG photos (0.3-3 MP) and on one of 30 12-megapixel photos (4000x3000),
# then the top-1 agreement between the exact path and --fast_decode on both.
# usage: benches/compare.sh [rounds]   (everything lands in target/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
work=target/bench
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q onnxruntime==1.32.0 opencv-python-headless==4.10.0.84 numpy pyyaml
fi
py="$work/venv/bin/python"
[ -d "$work/photos" ] || "$py" benches/make_photos.py "$work/photos" 200
[ -d "$work/photos_12mp" ] || "$py" benches/make_photos.py "$work/photos_12mp" 30 --size 4000x3000
if [ ! -d "$work/one" ]; then mkdir -p "$work/one" && cp "$work/photos/photo_0000.jpg" "$work/one/"; fi
cargo build --release --quiet
export PADDLE_PDX_CACHE_HOME="${PADDLE_PDX_CACHE_HOME:-$PWD/$work/cache}"
./target/release/paddlex --pipeline image_classification 2>/dev/null   # provisions runtime + model
model="$PADDLE_PDX_CACHE_HOME/official_models/EfficientNet-Lite0"
"$py" benches/compare.py ./target/release/paddlex "$model" "$work/photos" "$work/one" "$rounds"
"$py" benches/compare.py ./target/release/paddlex "$model" "$work/photos_12mp" - "$rounds"
for set in photos photos_12mp; do
  "$py" benches/fast_agreement.py ./target/release/paddlex "$work/$set"
done
