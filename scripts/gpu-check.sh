#!/usr/bin/env bash
# GPU check for paddlex-rs (issue 6): on a machine with an NVIDIA GPU and no
# network, run the reference photos on gpu:0 (CUDA) and with TensorRT fp16,
# check top-1 against the CPU, and time a 200-photo folder on CPU, CUDA and
# TensorRT. Finishes in a few minutes.
#
# Prepare on a machine with the package index (once):
#   scripts/gpu-check.sh --prepare
# which builds target/release/paddlex, fills target/bench (photos, model
# cache with the CPU runtime) via benches/compare.sh's steps, and downloads
# the GPU wheels into .whl/ (onnxruntime-gpu 1.31.1, CUDA 13, cuDNN 9,
# TensorRT). Then carry target/release/paddlex, target/bench and .whl to the
# GPU machine and run `scripts/gpu-check.sh` there from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_WHEELS=(onnxruntime-gpu==1.31.1 nvidia-cuda-runtime nvidia-cuda-nvrtc nvidia-cublas nvidia-cufft nvidia-curand nvidia-cudnn-cu13 tensorrt-cu13-libs)

if [ "${1:-}" = "--prepare" ]; then
  cargo build --release --quiet
  mkdir -p target/bench .whl
  [ -d target/bench/photos ] || { python3 -m venv target/bench/venv && target/bench/venv/bin/pip install -q opencv-python-headless==4.10.0.84 numpy && target/bench/venv/bin/python benches/make_photos.py target/bench/photos 200; }
  PADDLE_PDX_CACHE_HOME="$PWD/target/bench/cache" ./target/release/paddlex --pipeline image_classification
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --python-version 3.12 --implementation cp -d .whl "${GPU_WHEELS[@]}"
  echo "prepared: carry target/release/paddlex, target/bench and .whl"
  exit 0
fi

start=$(date +%s)
gpu=/tmp/paddlex-gpu
rm -rf "$gpu" && mkdir -p "$gpu"
for w in .whl/*.whl; do python3 -m zipfile -e "$w" "$gpu/site" >/dev/null 2>&1 || unzip -qo "$w" -d "$gpu/site"; done
ORT_GPU=$(ls "$gpu"/site/onnxruntime/capi/libonnxruntime.so.1.* | head -1)
# The CUDA, cuDNN and TensorRT libraries of the nvidia wheels, and the providers beside the runtime.
LIBS=$(find "$gpu/site" -name 'lib*.so*' -printf '%h\n' | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:-}"
export PADDLE_PDX_CACHE_HOME="$PWD/target/bench/cache"
export PADDLE_PDX_DISABLE_DEVICE_FALLBACK=1
bin=./target/release/paddlex
photos=target/bench/photos
refs=tests/data/photos
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true

top1() { grep -o "'input_path': '[^']*'.*'label_names': \['[^']*'" | sed "s/'input_path': '\([^']*\)'.*'label_names': \['\([^']*\)'/\1 \2/"; }

echo "== top-1 on the reference photos"
"$bin" --pipeline image_classification --input "$refs" --device cpu 2>&1 | top1 > /tmp/cpu.txt
ORT_DYLIB_PATH="$ORT_GPU" "$bin" --pipeline image_classification --input "$refs" --device gpu:0 2>&1 | tee /tmp/cuda.log | top1 > /tmp/cuda.txt
ORT_DYLIB_PATH="$ORT_GPU" "$bin" --pipeline image_classification --input "$refs" --device gpu:0 --use_hpip \
  --hpi_config "{'backend': 'tensorrt', 'backend_config': {'precision': 'fp16'}}" 2>&1 | tee /tmp/trt.log | top1 > /tmp/trt.txt
grep -h "Inference:" /tmp/cuda.log /tmp/trt.log
for run in cuda trt; do
  if diff -q /tmp/cpu.txt /tmp/$run.txt >/dev/null; then echo "$run: same top-1 as CPU on $(wc -l < /tmp/cpu.txt) photos"; else echo "$run: top-1 DIFFERS from CPU"; diff /tmp/cpu.txt /tmp/$run.txt || true; fi
done

echo "== 200-photo folder, images/s (median of 3)"
rate() {
  local times=()
  for _ in 1 2 3; do
    local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc)")
  done
  local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  echo "$(echo "scale=1; $(ls "$photos" | wc -l) / $med" | bc) images/s ($med s)"
}
echo "cpu:      $(rate "$bin" --pipeline image_classification --input "$photos" --device cpu)"
echo "cuda:     $(ORT_DYLIB_PATH="$ORT_GPU" rate "$bin" --pipeline image_classification --input "$photos" --device gpu:0)"
echo "tensorrt: $(ORT_DYLIB_PATH="$ORT_GPU" rate "$bin" --pipeline image_classification --input "$photos" --device gpu:0 --use_hpip --hpi_config "{'backend': 'tensorrt', 'backend_config': {'precision': 'fp16'}}")"
echo "done in $(( $(date +%s) - start )) s"
