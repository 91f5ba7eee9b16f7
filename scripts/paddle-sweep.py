#!/usr/bin/env python
"""Issue 12 sweep: the native Paddle -> ONNX converter (crates/paddle2onnx) on all 80 PaddleX
ImageNet classifiers, at their real size, with seeded random weights.

Pinned environment (the same venv as tests/data/paddle/requirements-p33.txt, plus ONNX Runtime):
  paddlepaddle==3.3.1 (CPU), numpy==2.4.6, paddleclas==2.6.0 (pip install --no-deps),
  onnxruntime==1.31.1, onnx==1.23.2 (onnx only for the op count of the result)
and the converter's example binary:
  cargo build -p paddle2onnx --release --example convert

Usage (from the repository root):
  /path/to/venv-p33/bin/python scripts/paddle-sweep.py                 # all 80, small to large
  /path/to/venv-p33/bin/python scripts/paddle-sweep.py --only ResNet18,StarNet-S1
  /path/to/venv-p33/bin/python scripts/paddle-sweep.py --budget-min 70  # stop starting models after ~70 min
  /path/to/venv-p33/bin/python scripts/paddle-sweep.py --merge --only A,B  # re-run rows A, B in place
  /path/to/venv-p33/bin/python scripts/paddle-sweep.py --render-only    # rewrite the .md from the .json
  (--convert BIN: converter binary, default target/release/examples/convert; it is copied to
   --workdir first so a concurrent cargo build cannot swap it mid-sweep)

Per model, each step in its own process (model files under --workdir, deleted after measuring):
  1. paddle (child process): build the PaddleClas 2.6.0 architecture of the PaddleX model's
     `Arch.name` (+ the Arch kwargs of PaddleX's training config; 1000 classes) by file path via
     tests/data/paddle/ppcls_loader.py; randomise it with tests/data/paddle/generate.py's helpers
     (seed = crc32(PaddleX name); BN statistics calibrated on a 2-image batch and jittered,
     BN/LN/affine/layer-scale params randomised, small-std Linear weights re-initialised, the
     classifier scaled to logit std 4 on the measured image -> decisive softmax), wrap it in
     Softmax like PaddleClas' ExportModel, paddle.jit.save (PIR JSON), run Paddle Inference
     (CPU, oneDNN off, IR optim off, 1 thread) on a fixed 1-image input, then the same model in
     float64 (generate.run_f64) -> paddle_f32_vs_f64 and tolerance = max(1e-5, 3 x that)
     (generate.tolerance_of). If the float64 run fails or is skipped (--f64-max-mb) the
     tolerance is 1e-4 and the row says so.
  2. convert: `/usr/bin/time -v convert MODEL_DIR model.onnx` -> wall seconds, peak RSS.
  3. ort (child process): ONNX Runtime (CPU EP) on the same input; max |softmax delta| vs
     Paddle Inference and top-1 agreement; if Δ > tol, the same again with ORT's graph
     optimisations off (diagnostic).
  4. onnx_f64 (child process): the converted graph evaluated in float64 by onnx.reference
     (numpy) vs Paddle's float64 result: checks the conversion itself, without float32 rounding.
     pass = Δ <= tol and same top-1; pass-f64 (pass† in the table) = Δ > tol, same top-1 and
     this float64 check <= ONNX_F64_EXACT (tests/data/paddle/README.md, "Tolerance": a small
     excess must be checked against float64 before blaming the converter).
Results: benches/paddle-sweep.json (raw, rewritten after every model) and benches/paddle-sweep.md.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "data", "paddle")
ONNX_F64_EXACT = 1e-6  # |ONNX graph in f64 - Paddle in f64| up to which the conversion counts as exact
PINNED = {"paddlepaddle": "3.3.1", "paddleclas": "2.6.0", "numpy": "2.4.6",
          "onnxruntime": "1.31.1", "onnx": "1.23.2"}

# ---------------------------------------------------------------- the 80 models
# PaddleX name -> (PaddleClas 2.6.0 backbone file, Arch.name = factory function, input H=W,
#                  extra Arch kwargs of PaddleX's config (paddlex/repo_apis/PaddleClas_api/configs),
#                  PaddleX's published storage size in MB (only used to order small -> large)).
# Input size = the crop of the model's inference.yml (src/model/registry.rs presets).
_LCN, _LCN2 = "legendary_models/pp_lcnet.py", "legendary_models/pp_lcnet_v2.py"
_MV1, _MV2 = "legendary_models/mobilenet_v1.py", "model_zoo/mobilenet_v2.py"
_MV3, _MV4 = "legendary_models/mobilenet_v3.py", "legendary_models/mobilenet_v4.py"
_RES, _HG, _HG2 = "legendary_models/resnet.py", "legendary_models/pp_hgnet.py", "legendary_models/pp_hgnet_v2.py"
_STAR, _FN, _CNX = "model_zoo/starnet.py", "model_zoo/fasternet.py", "model_zoo/convnext.py"
_SWIN, _VIT = "legendary_models/swin_transformer.py", "model_zoo/foundation_vit.py"
_CNX_KW = {"drop_path_rate": 0.1, "layer_scale_init_value": 1e-6, "head_init_scale": 1.0}

MODELS = [
    ("CLIP_vit_base_patch16_224", _VIT, "CLIP_vit_base_patch16_224", 224, {"return_embed": False}, 306.5),
    ("CLIP_vit_large_patch14_224", _VIT, "CLIP_vit_large_patch14_224", 224, {"return_embed": False}, 1040),
    ("ConvNeXt_tiny", _CNX, "ConvNeXt_tiny", 224, _CNX_KW, 104.1),
    ("ConvNeXt_small", _CNX, "ConvNeXt_small", 224, _CNX_KW, 178.0),
    ("ConvNeXt_base_224", _CNX, "ConvNeXt_base_224", 224, _CNX_KW, 313.9),
    ("ConvNeXt_base_384", _CNX, "ConvNeXt_base_384", 384, _CNX_KW, 313.9),
    ("ConvNeXt_large_224", _CNX, "ConvNeXt_large_224", 224, _CNX_KW, 700.7),
    ("ConvNeXt_large_384", _CNX, "ConvNeXt_large_384", 384, _CNX_KW, 700.7),
    ("MobileNetV1_x0_25", _MV1, "MobileNetV1_x0_25", 224, {}, 1.8),
    ("MobileNetV1_x0_5", _MV1, "MobileNetV1_x0_5", 224, {}, 4.8),
    ("MobileNetV1_x0_75", _MV1, "MobileNetV1_x0_75", 224, {}, 9.3),
    ("MobileNetV1_x1_0", _MV1, "MobileNetV1", 224, {}, 15.2),
    ("MobileNetV2_x0_25", _MV2, "MobileNetV2_x0_25", 224, {}, 5.5),
    ("MobileNetV2_x0_5", _MV2, "MobileNetV2_x0_5", 224, {}, 7.1),
    ("MobileNetV2_x1_0", _MV2, "MobileNetV2", 224, {}, 12.6),
    ("MobileNetV2_x1_5", _MV2, "MobileNetV2_x1_5", 224, {}, 25.0),
    ("MobileNetV2_x2_0", _MV2, "MobileNetV2_x2_0", 224, {}, 41.2),
    ("MobileNetV3_large_x0_35", _MV3, "MobileNetV3_large_x0_35", 224, {}, 7.5),
    ("MobileNetV3_large_x0_5", _MV3, "MobileNetV3_large_x0_5", 224, {}, 9.6),
    ("MobileNetV3_large_x0_75", _MV3, "MobileNetV3_large_x0_75", 224, {}, 14.0),
    ("MobileNetV3_large_x1_0", _MV3, "MobileNetV3_large_x1_0", 224, {}, 19.5),
    ("MobileNetV3_large_x1_25", _MV3, "MobileNetV3_large_x1_25", 224, {}, 26.5),
    ("MobileNetV3_small_x0_35", _MV3, "MobileNetV3_small_x0_35", 224, {}, 6.0),
    ("MobileNetV3_small_x0_5", _MV3, "MobileNetV3_small_x0_5", 224, {}, 6.8),
    ("MobileNetV3_small_x0_75", _MV3, "MobileNetV3_small_x0_75", 224, {}, 8.5),
    ("MobileNetV3_small_x1_0", _MV3, "MobileNetV3_small_x1_0", 224, {}, 10.5),
    ("MobileNetV3_small_x1_25", _MV3, "MobileNetV3_small_x1_25", 224, {}, 13.0),
    ("MobileNetV4_conv_small", _MV4, "MobileNetV4_conv_small", 224, {"drop_rate": 0.25, "drop_path_rate": 0.03}, 14.7),
    ("MobileNetV4_conv_medium", _MV4, "MobileNetV4_conv_medium", 224, {"drop_rate": 0.2, "drop_path_rate": 0.1}, 37.6),
    ("MobileNetV4_conv_large", _MV4, "MobileNetV4_conv_large", 224, {"drop_rate": 0.2, "drop_path_rate": 0.35}, 125.2),
    ("MobileNetV4_hybrid_medium", _MV4, "MobileNetV4_hybrid_medium", 256, {"drop_rate": 0.2, "drop_path_rate": 0.1}, 42.9),
    ("MobileNetV4_hybrid_large", _MV4, "MobileNetV4_hybrid_large", 448, {"drop_rate": 0.2, "drop_path_rate": 0.1}, 145.1),
    ("PP-HGNet_tiny", _HG, "PPHGNet_tiny", 224, {}, 52.4),
    ("PP-HGNet_small", _HG, "PPHGNet_small", 224, {}, 86.5),
    ("PP-HGNet_base", _HG, "PPHGNet_base", 224, {}, 249.4),
    ("PP-HGNetV2-B0", _HG2, "PPHGNetV2_B0", 224, {}, 21.4),
    ("PP-HGNetV2-B1", _HG2, "PPHGNetV2_B1", 224, {}, 22.6),
    ("PP-HGNetV2-B2", _HG2, "PPHGNetV2_B2", 224, {}, 39.9),
    ("PP-HGNetV2-B3", _HG2, "PPHGNetV2_B3", 224, {}, 57.9),
    ("PP-HGNetV2-B4", _HG2, "PPHGNetV2_B4", 224, {}, 70.4),
    ("PP-HGNetV2-B5", _HG2, "PPHGNetV2_B5", 224, {}, 140.8),
    ("PP-HGNetV2-B6", _HG2, "PPHGNetV2_B6", 224, {}, 268.4),
    ("PP-LCNet_x0_25", _LCN, "PPLCNet_x0_25", 224, {}, 5.5),
    ("PP-LCNet_x0_35", _LCN, "PPLCNet_x0_35", 224, {}, 5.9),
    ("PP-LCNet_x0_5", _LCN, "PPLCNet_x0_5", 224, {}, 6.7),
    ("PP-LCNet_x0_75", _LCN, "PPLCNet_x0_75", 224, {}, 8.4),
    ("PP-LCNet_x1_0", _LCN, "PPLCNet_x1_0", 224, {}, 10.5),
    ("PP-LCNet_x1_5", _LCN, "PPLCNet_x1_5", 224, {}, 16.0),
    ("PP-LCNet_x2_0", _LCN, "PPLCNet_x2_0", 224, {}, 23.2),
    ("PP-LCNet_x2_5", _LCN, "PPLCNet_x2_5", 224, {}, 32.1),
    ("PP-LCNetV2_small", _LCN2, "PPLCNetV2_small", 224, {}, 14.6),
    ("PP-LCNetV2_base", _LCN2, "PPLCNetV2_base", 224, {}, 23.7),
    ("PP-LCNetV2_large", _LCN2, "PPLCNetV2_large", 224, {}, 37.3),
    ("ResNet18", _RES, "ResNet18", 224, {}, 41.5),
    ("ResNet18_vd", _RES, "ResNet18_vd", 224, {}, 41.5),
    ("ResNet34", _RES, "ResNet34", 224, {}, 77.3),
    ("ResNet34_vd", _RES, "ResNet34_vd", 224, {}, 77.3),
    ("ResNet50", _RES, "ResNet50", 224, {}, 90.8),
    ("ResNet50_vd", _RES, "ResNet50_vd", 224, {}, 90.8),
    ("ResNet101", _RES, "ResNet101", 224, {}, 158.4),
    ("ResNet101_vd", _RES, "ResNet101_vd", 224, {}, 158.4),
    ("ResNet152", _RES, "ResNet152", 224, {}, 214.2),
    ("ResNet152_vd", _RES, "ResNet152_vd", 224, {}, 214.3),
    ("ResNet200_vd", _RES, "ResNet200_vd", 224, {}, 266.0),
    ("StarNet-S1", _STAR, "StarNet_S1", 224, {"drop_rate": 0, "drop_path_rate": 0}, 11.2),
    ("StarNet-S2", _STAR, "StarNet_S2", 224, {"drop_rate": 0, "drop_path_rate": 0.01}, 14.3),
    ("StarNet-S3", _STAR, "StarNet_S3", 224, {"drop_rate": 0, "drop_path_rate": 0.01}, 22.2),
    ("StarNet-S4", _STAR, "StarNet_S4", 224, {"drop_rate": 0, "drop_path_rate": 0.02}, 28.9),
    ("SwinTransformer_tiny_patch4_window7_224", _SWIN, "SwinTransformer_tiny_patch4_window7_224", 224, {}, 100.1),
    ("SwinTransformer_small_patch4_window7_224", _SWIN, "SwinTransformer_small_patch4_window7_224", 224, {}, 175.6),
    ("SwinTransformer_base_patch4_window7_224", _SWIN, "SwinTransformer_base_patch4_window7_224", 224, {}, 310.5),
    ("SwinTransformer_base_patch4_window12_384", _SWIN, "SwinTransformer_base_patch4_window12_384", 384, {}, 311.4),
    ("SwinTransformer_large_patch4_window7_224", _SWIN, "SwinTransformer_large_patch4_window7_224", 224, {}, 694.8),
    ("SwinTransformer_large_patch4_window12_384", _SWIN, "SwinTransformer_large_patch4_window12_384", 384, {}, 696.1),
    ("FasterNet-T0", _FN, "FasterNet_T0", 224, {}, 15.1),
    ("FasterNet-T1", _FN, "FasterNet_T1", 224, {}, 29.2),
    ("FasterNet-T2", _FN, "FasterNet_T2", 224, {}, 57.4),
    ("FasterNet-S", _FN, "FasterNet_S", 224, {}, 119.3),
    ("FasterNet-M", _FN, "FasterNet_M", 224, {}, 204.6),
    ("FasterNet-L", _FN, "FasterNet_L", 224, {}, 357.1),
]
assert len(MODELS) == 80 and len({m[0] for m in MODELS}) == 80
BY_NAME = {m[0]: m for m in MODELS}


def ordered():
    """Small to large (PaddleX storage size, then input size, then name)."""
    return sorted(MODELS, key=lambda m: (m[5], m[3], m[0]))


# ---------------------------------------------------------------- child: paddle
def phase_paddle(name, d, f64_max_mb):
    sys.path.insert(0, FIXTURES)
    import numpy as np
    import paddle
    import generate as G  # noqa: E402  (fixture helpers: randomize, make_decisive, run_f64, ...)
    import ppcls_loader  # noqa: E402

    _, rel, arch, hw, kw, _size = BY_NAME[name]
    t0 = time.monotonic()
    info = {"name": name, "arch": arch, "hw": hw, "arch_kwargs": kw}
    paddle.set_device("cpu")
    seed = G.seed_of(name)
    paddle.seed(seed)
    rng = np.random.RandomState(seed)
    info["seed"] = seed
    with paddle.utils.unique_name.guard():
        mod = ppcls_loader.load(rel)
        backbone = getattr(mod, arch)(pretrained=False, class_num=1000, **kw)
        backbone.eval()
        info["params_m"] = sum(int(np.prod(p.shape)) for p in backbone.parameters()) / 1e6
        # 2 images for BN calibration (batch statistics of a single image are degenerate on
        # 1x1 feature maps); the measured input is the first one.
        G.B = 2
        x2 = G.make_input(rng, hw)
        x = np.ascontiguousarray(x2[:1])
        G.randomize(backbone, rng, x2)
        lins = [l for l in backbone.sublayers() if isinstance(l, paddle.nn.Linear)]
        head = lins[-1]
        assert head.weight.shape[1] == 1000, ("classifier not last Linear", head.weight.shape)
        model = G.make_decisive(backbone, x, head=head)
        model.eval()
        info["t_build_s"] = time.monotonic() - t0
        with paddle.no_grad():
            dy = model(paddle.to_tensor(x)).numpy()
        t1 = time.monotonic()
        paddle.jit.save(model, os.path.join(d, "inference"),
                        input_spec=[paddle.static.InputSpec([None, 3, hw, hw], "float32", name="x")])
        info["t_export_s"] = time.monotonic() - t1
        t1 = time.monotonic()
        out_name, ref = G.run_inference(os.path.join(d, "inference.json"),
                                        os.path.join(d, "inference.pdiparams"), x)
        info["t_inference_s"] = time.monotonic() - t1
        np.save(os.path.join(d, "x.npy"), x)
        np.save(os.path.join(d, "ref.npy"), ref)
        info.update({
            "output_name": out_name, "output_shape": list(ref.shape),
            "max_abs_diff_dygraph_vs_inference": float(np.abs(ref - dy).max()),
            "paddle_top1": int(ref.argmax(-1)[0]), "paddle_max_prob": float(ref.max()),
            "paddle_top1_margin": float(np.diff(np.sort(ref[0])[-2:])[0]),
            "ops": G.pir_ops(os.path.join(d, "inference.json"))[0],
            "json_mb": os.path.getsize(os.path.join(d, "inference.json")) / 1e6,
            "weights_mb": os.path.getsize(os.path.join(d, "inference.pdiparams")) / 1e6,
            "f64": "pending",
        })
        json.dump(info, open(os.path.join(d, "paddle.json"), "w"), indent=1)
        # float64 run of the same model + weights (after everything float32 is on disk)
        if f64_max_mb and info["weights_mb"] > f64_max_mb:
            info["f64"] = f"skipped (weights {info['weights_mb']:.0f} MB > --f64-max-mb {f64_max_mb})"
        else:
            t1 = time.monotonic()
            try:
                y64 = G.run_f64(model, x)
                np.save(os.path.join(d, "y64.npy"), y64)
                info["paddle_f32_vs_f64"] = float(np.abs(ref.astype("float64") - y64).max())
                info["tolerance"] = G.tolerance_of(info["paddle_f32_vs_f64"])
                info["f64"] = "ok"
            except Exception as e:  # noqa: BLE001
                info["f64"] = f"failed: {type(e).__name__}: {str(e)[:300]}"
            info["t_f64_s"] = time.monotonic() - t1
    info["t_paddle_total_s"] = time.monotonic() - t0
    json.dump(info, open(os.path.join(d, "paddle.json"), "w"), indent=1)


# ---------------------------------------------------------------- child: ort
def phase_ort(d):
    import numpy as np
    import onnx
    import onnxruntime as ort
    x = np.load(os.path.join(d, "x.npy"))
    ref = np.load(os.path.join(d, "ref.npy"))
    m = onnx.load(os.path.join(d, "model.onnx"), load_external_data=False)
    res = {"onnx_nodes": len(m.graph.node), "onnx_opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][:1],
           "onnx_op_types": sorted({n.op_type for n in m.graph.node})}
    del m
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    t0 = time.monotonic()
    sess = ort.InferenceSession(os.path.join(d, "model.onnx"), so, providers=["CPUExecutionProvider"])
    res["t_ort_load_s"] = time.monotonic() - t0
    inp = sess.get_inputs()[0].name
    t0 = time.monotonic()
    y = sess.run(None, {inp: x})[0]
    res["t_ort_run_s"] = time.monotonic() - t0
    res["ort_output_shape"] = list(y.shape)
    if y.shape != ref.shape:
        res["error"] = f"output shape {list(y.shape)} != paddle {list(ref.shape)}"
    else:
        res["max_abs_diff"] = float(np.abs(y.astype("float64") - ref.astype("float64")).max())
        res["ort_top1"] = int(y.argmax(-1)[0])
        res["top1_agree"] = bool((y.argmax(-1) == ref.argmax(-1)).all())
        res["nan"] = bool(np.isnan(y).any())
        y64p = os.path.join(d, "y64.npy")
        if os.path.exists(y64p):
            # ORT's own float32 error w.r.t. Paddle's float64 evaluation of the same model
            res["ort_vs_f64"] = float(np.abs(y.astype("float64") - np.load(y64p)).max())
        tol = json.load(open(os.path.join(d, "paddle.json"))).get("tolerance", 1e-4)
        if res["max_abs_diff"] > tol:
            # diagnostic: the same ONNX without ORT's graph optimisations (fusions, layout changes)
            so = ort.SessionOptions()
            so.intra_op_num_threads = 2
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            y0 = ort.InferenceSession(os.path.join(d, "model.onnx"), so,
                                      providers=["CPUExecutionProvider"]).run(None, {inp: x})[0]
            res["max_abs_diff_ort_noopt"] = float(np.abs(y0.astype("float64") - ref.astype("float64")).max())
            if os.path.exists(y64p):
                res["ort_noopt_vs_f64"] = float(np.abs(y0.astype("float64") - np.load(y64p)).max())
    json.dump(res, open(os.path.join(d, "ort.json"), "w"), indent=1)


# ---------------------------------------------------------------- child: ONNX graph in float64
def phase_onnx_f64(d):
    """Evaluate the converted ONNX graph in float64 with onnx.reference.ReferenceEvaluator (numpy)
    and compare with Paddle's float64 evaluation of the same model (y64.npy): this checks the
    conversion itself, free of float32 rounding (f32 constants stored in the graph -- epsilons,
    1/sqrt(2), scales -- stay f32-rounded, which is visible at the ~1e-8 level at most)."""
    import math
    import numpy as np
    import onnx
    from onnx import TensorProto, numpy_helper
    from onnx.reference import ReferenceEvaluator
    from onnx.reference.op_run import OpRun

    class MaxPool(OpRun):
        """onnx 1.23's reference MaxPool drops asymmetric end pads ([0,0,1,1] -> 111 instead of
        112 rows); plain 2D NCHW max pool with -inf padding and ceil_mode."""

        def _run(self, x, auto_pad=None, ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
                 storage_order=0, strides=None):
            assert auto_pad in (None, "NOTSET", b"NOTSET") and not (dilations and any(v != 1 for v in dilations))
            kh, kw = kernel_shape
            sh, sw = strides or (1, 1)
            pt, pl, pb, pr = pads or (0, 0, 0, 0)
            n, c, h, w = x.shape
            rnd = math.ceil if ceil_mode else math.floor
            oh, ow = rnd((h + pt + pb - kh) / sh) + 1, rnd((w + pl + pr - kw) / sw) + 1
            if ceil_mode:  # the last window must start inside the input or the left padding
                oh -= (oh - 1) * sh >= h + pt
                ow -= (ow - 1) * sw >= w + pl
            xp = np.full((n, c, max((oh - 1) * sh + kh, h + pt + pb), max((ow - 1) * sw + kw, w + pl + pr)),
                         -np.inf, x.dtype)
            xp[:, :, pt:pt + h, pl:pl + w] = x
            y = np.full((n, c, oh, ow), -np.inf, x.dtype)
            for i in range(kh):
                for j in range(kw):
                    y = np.maximum(y, xp[:, :, i:i + (oh - 1) * sh + 1:sh, j:j + (ow - 1) * sw + 1:sw])
            return (y,)

    class HardSwish(OpRun):
        """onnx 1.23 evaluates HardSwish through its function body, HardSigmoid with a float32
        alpha = 1/6 (relative error 1e-8); exact form here."""

        def _run(self, x):
            return ((x * np.maximum(0, np.minimum(1, x / 6.0 + 0.5))).astype(x.dtype),)

    t0 = time.monotonic()
    m = onnx.load(os.path.join(d, "model.onnx"))
    g = m.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == TensorProto.FLOAT:
            vi.type.tensor_type.elem_type = TensorProto.DOUBLE
    for node in g.node:
        for at in node.attribute:
            if node.op_type in ("Cast", "CastLike") and at.name == "to" and at.i == TensorProto.FLOAT:
                at.i = TensorProto.DOUBLE
            if at.type == onnx.AttributeProto.TENSOR and at.t.data_type == TensorProto.FLOAT:
                at.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(at.t).astype(np.float64), at.t.name))
    ev = ReferenceEvaluator(m, new_ops=[MaxPool, HardSwish])
    del m, g
    for k, v in list(ev.rt_inits_.items()):  # initializers -> float64 after loading (no 2 GB proto)
        if isinstance(v, np.ndarray) and v.dtype == np.float32:
            ev.rt_inits_[k] = v.astype(np.float64)
    x = np.load(os.path.join(d, "x.npy")).astype(np.float64)
    y = ev.run(None, {ev.input_names[0]: x})[0]
    y64 = np.load(os.path.join(d, "y64.npy"))
    res = {"onnx_f64_dtype": str(y.dtype), "t_onnx_f64_s": time.monotonic() - t0}
    if y.shape != y64.shape:
        res["onnx_f64_error"] = f"shape {list(y.shape)} != {list(y64.shape)}"
    else:
        res["onnx_f64_vs_paddle_f64"] = float(np.abs(y.astype(np.float64) - y64).max())
    json.dump(res, open(os.path.join(d, "onnx_f64.json"), "w"), indent=1)


# ---------------------------------------------------------------- parent
def run_child(args, timeout):
    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, capture_output=True,
                           text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired as e:
        return "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), \
            (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or ""), time.monotonic() - t0


def tail(s, n=1500):
    s = (s or "").strip()
    return s[-n:]


def parse_time_v(stderr):
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if m:
        out["peak_rss_mb"] = int(m.group(1)) / 1024.0
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stderr)
    if m:
        parts = [float(p) for p in m.group(1).split(":")]
        s = 0.0
        for p in parts:
            s = s * 60 + p
        out["time_v_wall_s"] = s
    m = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    if m:
        out["user_s"] = float(m.group(1))
    return out


def sweep_one(name, a, convert_bin):
    d = os.path.join(a.workdir, re.sub(r"[^A-Za-z0-9_.-]", "_", name))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    r = {"name": name, "arch": BY_NAME[name][2], "hw": BY_NAME[name][3], "status": "error"}
    t0 = time.monotonic()
    rc, so, se, dt = run_child(["--phase", "paddle", "--model", name, "--dir", d,
                                "--f64-max-mb", str(a.f64_max_mb)], a.paddle_timeout)
    r["t_paddle_phase_s"] = dt
    pj = os.path.join(d, "paddle.json")
    if os.path.exists(pj):
        r.update(json.load(open(pj)))
    if not os.path.exists(os.path.join(d, "ref.npy")):
        r["status"] = "paddle-failed"
        r["error"] = f"paddle phase rc={rc}: {tail(se)}"
        shutil.rmtree(d, ignore_errors=True)
        r["t_total_s"] = time.monotonic() - t0
        return r
    if r.get("f64") != "ok":
        if r.get("f64") == "pending":
            r["f64"] = f"did not finish (paddle phase rc={rc}, {dt:.0f} s): {tail(se, 300)}"
        r["tolerance"] = 1e-4
        r["tolerance_note"] = "float64 reference unavailable -> floor 1e-4"
    # convert
    onnx_path = os.path.join(d, "model.onnx")
    t1 = time.monotonic()
    try:
        p = subprocess.run(["/usr/bin/time", "-v", convert_bin, d, onnx_path], capture_output=True,
                           text=True, timeout=a.convert_timeout)
        crc, cout, cerr = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        crc, cout, cerr = "timeout", "", ""
    r["convert_s"] = time.monotonic() - t1
    r.update(parse_time_v(cerr))
    r["convert_rc"] = crc
    r["convert_stdout"] = cout.strip()[:600]
    conv_err = "\n".join(l for l in cerr.splitlines() if not l.startswith("\t") and "Command " not in l
                         and "Command exited" not in l).strip()
    if crc != 0 or not os.path.exists(onnx_path):
        r["converted"] = False
        r["status"] = "convert-failed"
        r["error"] = conv_err[:2000] or f"rc={crc}"
    else:
        r["converted"] = True
        r["onnx_mb"] = os.path.getsize(onnx_path) / 1e6
        rc, so, se, dt = run_child(["--phase", "ort", "--dir", d], a.ort_timeout)
        r["t_ort_phase_s"] = dt
        oj = os.path.join(d, "ort.json")
        if os.path.exists(oj):
            r.update(json.load(open(oj)))
        if os.path.exists(os.path.join(d, "y64.npy")) and not a.no_onnx_f64:
            rc2, so2, se2, dt2 = run_child(["--phase", "onnx_f64", "--dir", d], a.ort_timeout)
            r["t_onnx_f64_phase_s"] = dt2
            fj = os.path.join(d, "onnx_f64.json")
            if os.path.exists(fj):
                r.update(json.load(open(fj)))
            else:
                r["onnx_f64_error"] = f"rc={rc2}: {tail(se2, 400)}"
        if "max_abs_diff" not in r:
            r["status"] = "ort-failed"
            r["error"] = r.get("error") or f"ort phase rc={rc}: {tail(se)}"
        else:
            ok = r["max_abs_diff"] <= r["tolerance"] and not r["nan"]
            r["within_tol"] = ok
            if ok and r["top1_agree"]:
                r["status"] = "pass"
            elif r["top1_agree"] and not r["nan"] and \
                    r.get("onnx_f64_vs_paddle_f64", 1.0) <= ONNX_F64_EXACT:
                # README "Tolerance": Δ a little over tol, but the converted graph evaluated in
                # float64 equals Paddle's float64 result -> float32 noise of the engines
                r["status"] = "pass-f64"
            else:
                r["status"] = "mismatch"
    shutil.rmtree(d, ignore_errors=True)
    r["t_total_s"] = time.monotonic() - t0
    return r


def env_info(convert_bin):
    import numpy
    import onnx
    import onnxruntime
    import paddle
    from importlib.metadata import version
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass

    def git(*args):
        try:
            return subprocess.run(["git", "-C", REPO] + list(args), capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} logical CPUs, {mem} RAM, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "paddlepaddle": paddle.__version__, "paddleclas": version("paddleclas"),
        "numpy": numpy.__version__, "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
        "git_head": git("rev-parse", "--short", "HEAD"),
        "crate_dirty": bool(git("status", "--porcelain", "crates/paddle2onnx")),
        "convert_sha256": hashlib.sha256(open(convert_bin, "rb").read()).hexdigest()[:16],
    }
    for k, v in PINNED.items():
        if info.get(k) != v:
            info.setdefault("version_warnings", []).append(f"{k} {info.get(k)} != pinned {v}")
    return info


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def render(data, md_path):
    env, results, not_run = data["env"], data["results"], data.get("not_run", [])
    n_pass = sum(r["status"] in ("pass", "pass-f64") for r in results)
    n_pass_f64 = sum(r["status"] == "pass-f64" for r in results)
    n_conv = sum(bool(r.get("converted")) for r in results)
    fails = [r for r in results if r["status"] not in ("pass", "pass-f64")]
    L = []
    L.append("# Paddle → ONNX converter sweep: the 80 PaddleX ImageNet classifiers at real size\n")
    L.append(f"- Date: {env['date_utc']}; total wall time {data.get('wall_s', 0) / 60:.1f} min")
    L.append(f"- Machine: {env['machine']} (shared with other jobs)")
    L.append(f"- Versions: paddlepaddle {env['paddlepaddle']} (CPU), paddleclas {env['paddleclas']} "
             f"(--no-deps), numpy {env['numpy']}, onnxruntime {env['onnxruntime']}, onnx {env['onnx']}, "
             f"Python {env['python']}")
    L.append(f"- Converter: `crates/paddle2onnx` example `convert` ({env.get('converter_note', '')}); "
             f"binary sha256 {env['convert_sha256']}…; repository HEAD at sweep start {env['git_head']}"
             f"{' (crates/paddle2onnx had uncommitted changes in the working tree)' if env.get('crate_dirty') else ''}")
    for rr in data.get("reruns", []):
        L.append(f"- Re-run {rr['date_utc']} ({rr.get('wall_s', 0) / 60:.1f} min, converter sha256 "
                 f"{rr['convert_sha256']}…), rows replaced: {', '.join(rr['models'])}")
    if env.get("version_warnings"):
        L.append(f"- **Version warnings**: {'; '.join(env['version_warnings'])}")
    L.append("- Rerun: `cargo build -p paddle2onnx --release --example convert && "
             "/path/to/venv-p33/bin/python scripts/paddle-sweep.py` (options: `--only A,B`, "
             "`--merge`, `--budget-min N`, `--f64-max-mb N`, `--render-only`; see the script's docstring). Raw results: "
             "`benches/paddle-sweep.json`.")
    L.append("")
    L.append("Method: PaddleClas 2.6.0 architecture of the PaddleX model's `Arch.name` (+ the Arch "
             "kwargs of PaddleX's config), 1000 classes, the model's own input size, seeded random "
             "weights made non-trivial and decisive as in `tests/data/paddle/generate.py` (BN stats "
             "calibrated on a 2-image batch + jittered, classifier scaled to logit std 4), "
             "`paddle.jit.save` (PIR JSON), Paddle Inference (CPU, oneDNN off, IR optim off, 1 thread) "
             "on one fixed synthetic image, conversion with the `convert` example under `/usr/bin/time -v`, "
             "ONNX Runtime (CPU EP) on the result. Δ = max |softmax(ORT) − softmax(Paddle Inference)| over "
             "the 1000 outputs; f32 vs f64 = max |Paddle Inference − Paddle float64 dygraph|; tol = max(1e-5, "
             "3 × that) rounded up to 2 digits (as the fixtures); ORT vs f64 = max |ORT − Paddle float64|; "
             "ONNX f64 = max |the converted ONNX graph evaluated in float64 (onnx.reference, numpy; its MaxPool "
             "and HardSwish replaced by exact ones: onnx 1.23 drops asymmetric MaxPool end pads and "
             "evaluates HardSwish with a float32 1/6) − "
             "Paddle float64|, a check of the conversion free of float32 rounding (constants stored as f32 "
             "in the graph keep their f32 rounding: ~1e-8 effects). pass = Δ ≤ tol and same top-1; "
             f"pass† = Δ > tol, same top-1 and ONNX f64 ≤ {ONNX_F64_EXACT:g} (the graph computes what "
             "Paddle computes; the excess is float32 rounding of the two engines, see "
             "tests/data/paddle/README.md \"Tolerance\"). Convert s / peak MB: wall "
             "time and max RSS of the converter process; weights MB: `inference.pdiparams`.")
    L.append("")
    L.append(f"**Summary: {len(results)} run, {n_conv} converted, {n_pass} pass "
             f"({n_pass_f64} of them pass† via the float64 check), "
             f"{len(results) - n_pass} fail/mismatch, {len(not_run)} not run.**")
    L.append("")
    L.append("| # | PaddleX model | PaddleClas arch | input | params M | converted | max abs Δ | tol | f32 vs f64 | ORT vs f64 | ONNX f64 | top-1 | pass | convert s | peak MB | weights MB | ONNX MB | notes |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(results, 1):
        notes = []
        if r.get("tolerance_note"):
            notes.append(r["tolerance_note"] + f" ({r.get('f64')})")
        if r["status"] not in ("pass", "mismatch") and r.get("error"):
            notes.append(r["error"].splitlines()[-1][:200].replace("|", "\\|"))
        if r.get("onnx_f64_error"):
            notes.append("ONNX f64 check failed: " + r["onnx_f64_error"].splitlines()[-1][:150].replace("|", "\\|"))
        if r.get("max_abs_diff_dygraph_vs_inference"):
            notes.append(f"dygraph≠inference by {r['max_abs_diff_dygraph_vs_inference']:.2g}")
        conv = "yes" if r.get("converted") else "**no**"
        top1 = "" if "top1_agree" not in r else ("yes" if r["top1_agree"] else "**no**")
        ps = {"pass": "yes", "pass-f64": "yes†"}.get(r["status"], f"**{r['status']}**")
        if "max_abs_diff_ort_noopt" in r:
            notes.append(f"ORT without graph opts: Δ {r['max_abs_diff_ort_noopt']:.2g}"
                         + (f", vs f64 {r['ort_noopt_vs_f64']:.2g}" if "ort_noopt_vs_f64" in r else ""))
        L.append(f"| {i} | {r['name']} | {r['arch']} | {r['hw']} | {fmt(r.get('params_m'), '.1f')} | {conv} | "
                 f"{fmt(r.get('max_abs_diff'), '.2g')} | {fmt(r.get('tolerance'), '.2g')} | "
                 f"{fmt(r.get('paddle_f32_vs_f64'), '.2g')} | {fmt(r.get('ort_vs_f64'), '.2g')} | "
                 f"{fmt(r.get('onnx_f64_vs_paddle_f64'), '.2g')} | {top1} | {ps} | {fmt(r.get('convert_s'), '.2f')} | "
                 f"{fmt(r.get('peak_rss_mb'), '.0f')} | {fmt(r.get('weights_mb'), '.1f')} | "
                 f"{fmt(r.get('onnx_mb'), '.1f')} | {'; '.join(notes)} |")
    if not_run:
        L.append("")
        L.append(f"**Not run** (time budget of {data.get('budget_min')} min): " + ", ".join(not_run))
    if fails:
        L.append("")
        L.append("## Failures")
        for r in fails:
            L.append(f"\n### {r['name']} ({r['status']})\n")
            if r.get("error"):
                L.append("```\n" + r["error"][:1500] + "\n```")
            if "max_abs_diff" in r:
                L.append(f"max abs Δ {r['max_abs_diff']:.3g} vs tol {r.get('tolerance')}, top-1 paddle "
                         f"{r.get('paddle_top1')} / ORT {r.get('ort_top1')}")
    open(md_path, "w").write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="comma-separated PaddleX names")
    ap.add_argument("--budget-min", type=float, default=0, help="don't start a model expected to end after this (0 = no limit)")
    ap.add_argument("--workdir", default="/tmp/paddle-sweep")
    ap.add_argument("--convert", default=os.path.join(REPO, "target", "release", "examples", "convert"))
    ap.add_argument("--out", default=os.path.join(REPO, "benches", "paddle-sweep.md"))
    ap.add_argument("--f64-max-mb", type=float, default=0, help="skip the float64 run above this weights size (0 = never skip)")
    ap.add_argument("--paddle-timeout", type=int, default=1800)
    ap.add_argument("--convert-timeout", type=int, default=900)
    ap.add_argument("--ort-timeout", type=int, default=900)
    ap.add_argument("--converter-note", default="",
                    help="how --convert was built (goes into the report header)")
    ap.add_argument("--no-onnx-f64", action="store_true", help="skip the float64 evaluation of the ONNX graph")
    ap.add_argument("--merge", action="store_true",
                    help="re-run the --only models and replace their rows in the existing JSON/markdown")
    ap.add_argument("--render-only", action="store_true")
    # internal (child processes)
    ap.add_argument("--phase", choices=["paddle", "ort", "onnx_f64"], help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase == "paddle":
        return phase_paddle(a.model, a.dir, a.f64_max_mb)
    if a.phase == "ort":
        return phase_ort(a.dir)
    if a.phase == "onnx_f64":
        return phase_onnx_f64(a.dir)
    json_path = os.path.splitext(a.out)[0] + ".json"
    if a.render_only:
        return render(json.load(open(json_path)), a.out)

    os.makedirs(a.workdir, exist_ok=True)
    # private copy of the converter: a concurrent `cargo build` must not swap it mid-sweep
    convert_bin = os.path.join(a.workdir, "convert")
    shutil.copy2(a.convert, convert_bin)
    only = [s for s in a.only.split(",") if s]
    for s in only:
        assert s in BY_NAME, f"unknown model {s}"
    todo = [m[0] for m in ordered() if not only or m[0] in only]
    env = env_info(convert_bin)
    env["converter_note"] = a.converter_note or f"{a.convert}, built from the working tree"
    data = {"env": env, "budget_min": a.budget_min or None, "results": [], "not_run": []}
    rerun = None
    if a.merge:
        data = json.load(open(json_path))
        rerun = {"date_utc": env["date_utc"], "models": todo, "convert_sha256": env["convert_sha256"],
                 "converter_note": env["converter_note"]}
        data.setdefault("reruns", []).append(rerun)
    rank = {m[0]: i for i, m in enumerate(ordered())}
    start = time.monotonic()
    last = None  # (size, seconds) of the previous model, to estimate the next one
    for i, name in enumerate(todo):
        size = BY_NAME[name][5] * (BY_NAME[name][3] / 224.0) ** 2
        if a.budget_min:
            elapsed = time.monotonic() - start
            est = 0.0 if last is None else last[1] * max(1.0, size / last[0])
            if elapsed + est > a.budget_min * 60:
                data["not_run"] = sorted(set(data.get("not_run", [])) | set(todo[i:]), key=lambda n: rank[n])
                print(f"budget: {elapsed / 60:.1f} min used, next {name} estimated {est:.0f} s -> stop", flush=True)
                break
        r = sweep_one(name, a, convert_bin)
        last = (size, r["t_total_s"])
        data["results"] = sorted([x for x in data["results"] if x["name"] != name] + [r],
                                 key=lambda x: rank[x["name"]])
        data["not_run"] = [n for n in data.get("not_run", []) if n != name]
        if rerun is None:
            data["wall_s"] = time.monotonic() - start
        else:
            rerun["wall_s"] = time.monotonic() - start
        print(f"[{i + 1}/{len(todo)} {(time.monotonic() - start) / 60:.1f} min] {name}: {r['status']} "
              f"Δ={r.get('max_abs_diff')} tol={r.get('tolerance')} top1={r.get('top1_agree')} "
              f"conv={r.get('convert_s', 0):.2f}s rss={r.get('peak_rss_mb', 0):.0f}MB "
              f"w={r.get('weights_mb', 0):.1f}MB total={r['t_total_s']:.0f}s"
              + (f" ERR: {r['error'][-300:]}" if r.get("error") else ""), flush=True)
        json.dump(data, open(json_path, "w"), indent=1)
        render(data, a.out)
    if rerun is None:
        data["wall_s"] = time.monotonic() - start
    json.dump(data, open(json_path, "w"), indent=1)
    render(data, a.out)


if __name__ == "__main__":
    main()
