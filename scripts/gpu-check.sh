#!/usr/bin/env bash
# GPU check for paddlex-rs (issue 6): on a machine with an NVIDIA GPU and no
# network, let paddlex provision its GPU runtime from wheels carried along,
# run the reference photos on gpu:0 (CUDA) and with TensorRT fp16, check
# top-1 against the CPU, and time a 200-photo folder on CPU, CUDA and
# TensorRT. Finishes in a few minutes.
#
# Prepare on a machine with the package index (once):
#   scripts/gpu-check.sh --prepare
# which builds target/release/paddlex, fills target/bench (photos, model
# cache with the CPU runtime) and downloads the pinned GPU wheels into .whl/
# (onnxruntime-gpu 1.31.1, CUDA 13, cuDNN 9: about 1.6 GB; the pins are those
# of src/runtime/gpu.rs). Then carry target/release/paddlex, target/bench and
# .whl to the GPU machine and run `scripts/gpu-check.sh` there from the
# repository root: paddlex fetches its GPU runtime from .whl through pip
# (PIP_NO_INDEX, PIP_FIND_LINKS), exactly as it would from the index.
# TensorRT is not on the package index: the TensorRT runs need TensorRT 10 on
# the library path and are skipped without it.
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_WHEELS=(
  onnxruntime-gpu==1.31.1 nvidia-cuda-runtime==13.5.37 nvidia-cuda-nvrtc==13.5.37
  nvidia-nvjitlink==13.5.37 nvidia-cublas==13.10.0.20 nvidia-cufft==12.5.0.14
  nvidia-curand==10.4.5.25 nvidia-cudnn-cu13==9.28.1.4
)

if [ "${1:-}" = "--prepare" ]; then
  cargo build --release --quiet
  mkdir -p target/bench .whl
  [ -d target/bench/photos ] || { python3 -m venv target/bench/venv && target/bench/venv/bin/pip install -q opencv-python-headless==4.10.0.84 numpy && target/bench/venv/bin/python benches/make_photos.py target/bench/photos 200; }
  PADDLE_PDX_CACHE_HOME="$PWD/target/bench/cache" ./target/release/paddlex --pipeline image_classification
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_12_x86_64 --platform manylinux_2_5_x86_64 \
    --python-version 3.11 --implementation cp -d .whl "${GPU_WHEELS[@]}"
  echo "prepared: carry target/release/paddlex, target/bench and .whl"
  exit 0
fi

start=$(date +%s)
export PADDLE_PDX_CACHE_HOME="$PWD/target/bench/cache"
export PADDLE_PDX_DISABLE_DEVICE_FALLBACK=1
export PIP_NO_INDEX=1 PIP_FIND_LINKS="$PWD/.whl"
bin=./target/release/paddlex
photos=target/bench/photos
refs=tests/data/photos
trt_hpi="{'backend': 'tensorrt', 'backend_config': {'precision': 'fp16'}}"
have_trt() {
  ldconfig -p 2>/dev/null | grep -q 'libnvinfer.so.10' && return 0
  local d; IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [ -e "$d/libnvinfer.so.10" ] && return 0; done
  return 1
}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true

top1() { grep -o "'input_path': '[^']*'.*'label_names': \['[^']*'" | sed "s/'input_path': '\([^']*\)'.*'label_names': \['\([^']*\)'/\1 \2/"; }

echo "== provisioning the GPU runtime from .whl"
s=$(date +%s); "$bin" --pipeline image_classification --device gpu:0 2>&1 | tail -3; echo "($(( $(date +%s) - s )) s)"

echo "== top-1 on the reference photos"
"$bin" --pipeline image_classification --input "$refs" --device cpu 2>&1 | top1 > /tmp/cpu.txt
"$bin" --pipeline image_classification --input "$refs" --device gpu:0 2>&1 | tee /tmp/cuda.log | top1 > /tmp/cuda.txt
runs=(cuda)
if have_trt; then
  "$bin" --pipeline image_classification --input "$refs" --device gpu:0 --use_hpip \
    --hpi_config "$trt_hpi" 2>&1 | tee /tmp/trt.log | top1 > /tmp/trt.txt
  runs+=(trt)
else
  echo "tensorrt: skipped (TensorRT 10 is not on the library path)"
fi
grep -h "Inference:" /tmp/cuda.log /tmp/trt.log 2>/dev/null || true
for run in "${runs[@]}"; do
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
echo "cuda:     $(rate "$bin" --pipeline image_classification --input "$photos" --device gpu:0)"
if have_trt; then
  echo "tensorrt: $(rate "$bin" --pipeline image_classification --input "$photos" --device gpu:0 --use_hpip --hpi_config "$trt_hpi")"
fi
echo "done in $(( $(date +%s) - start )) s"
