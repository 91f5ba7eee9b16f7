//! Convolution, normalisation, pooling, dropout and softmax.

use crate::error::{unsupported, ErrorKind};
use crate::onnx::Attr;
use crate::program::Op;

use super::{norm_axis, Emitter};

fn check_nchw(op: &Op) -> Result<(), ErrorKind> {
    match op.str("data_format").or_else(|_| op.str("data_layout")) {
        Ok("NCHW" | "AnyLayout") | Err(_) => Ok(()),
        Ok(other) => Err(unsupported(
            &op.kind,
            format_args!("attribute `data_format` = \"{other}\" is not supported (NCHW only)"),
        )),
    }
}

/// Paddle's `paddings` (2 values: symmetric; 4 values: top, bottom, left,
/// right) as ONNX `pads` (top, left, bottom, right), resolving `SAME` and
/// `VALID` from the static input size.
fn pads(op: &Op, input: &[i64], kernel: &[i64], strides: &[i64]) -> Result<Vec<i64>, ErrorKind> {
    let algorithm = op.str("padding_algorithm").unwrap_or("EXPLICIT");
    match algorithm {
        "VALID" => Ok(vec![0; 4]),
        "SAME" => {
            let mut before = Vec::new();
            let mut after = Vec::new();
            for i in 0..2 {
                let size = input[2 + i];
                if size < 0 {
                    return Err(unsupported(
                        &op.kind,
                        "padding_algorithm SAME needs the input's spatial size, which is dynamic",
                    ));
                }
                // Paddle: out = ceil(in / stride); dilation taken as 1.
                let out = (size + strides[i] - 1) / strides[i];
                let total = ((out - 1) * strides[i] + kernel[i] - size).max(0);
                before.push(total / 2);
                after.push(total - total / 2);
            }
            Ok(vec![before[0], before[1], after[0], after[1]])
        }
        "EXPLICIT" => {
            let p = op.ints("paddings")?;
            in_range(op, "paddings", &p, 0)?;
            match p.len() {
                2 => Ok(vec![p[0], p[1], p[0], p[1]]),
                4 => Ok(vec![p[0], p[2], p[1], p[3]]),
                n => Err(unsupported(
                    &op.kind,
                    format_args!("attribute `paddings` with {n} values is not supported"),
                )),
            }
        }
        other => Err(unsupported(
            &op.kind,
            format_args!("attribute `padding_algorithm` = \"{other}\" is not supported"),
        )),
    }
}

/// The largest kernel, stride, dilation, padding or spatial size accepted:
/// far beyond any real model, small enough that no arithmetic on them
/// overflows.
const MAX_SPATIAL: i64 = 1 << 24;

/// Checks that every value is within `[min, MAX_SPATIAL]`.
fn in_range(op: &Op, name: &str, values: &[i64], min: i64) -> Result<(), ErrorKind> {
    match values.iter().find(|&&v| v < min || v > MAX_SPATIAL) {
        Some(v) => Err(ErrorKind::Program(format!(
            "operator `{}`: {name} value {v} is out of range",
            op.kind
        ))),
        None => Ok(()),
    }
}

/// A 2-D attribute (one value means both axes), each at least `min`.
fn pair(op: &Op, name: &str, min: i64) -> Result<Vec<i64>, ErrorKind> {
    let v = op.ints(name)?;
    let v = match v.len() {
        1 => vec![v[0], v[0]],
        2 => v,
        n => {
            return Err(unsupported(
                &op.kind,
                format_args!("attribute `{name}` with {n} values is not supported (2-D only)"),
            ))
        }
    };
    in_range(op, name, &v, min)?;
    Ok(v)
}

/// Checks an output size the program declares against the one ONNX computes.
fn check_spatial(op: &Op, declared: &[i64], computed: [i64; 2]) -> Result<(), ErrorKind> {
    for i in 0..2 {
        let d = declared.get(2 + i).copied().unwrap_or(-1);
        if d >= 0 && d != computed[i] {
            return Err(unsupported(
                &op.kind,
                format_args!(
                    "the program declares an output of {declared:?}, but the ONNX translation would give {computed:?} in the last two dims"
                ),
            ));
        }
    }
    Ok(())
}

/// `conv2d`, `depthwise_conv2d` → `Conv`.
pub(super) fn conv2d(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    check_nchw(op)?;
    let x_dims = e.dims(op.input(0))?;
    let w_dims = e.dims(op.input(1))?;
    if x_dims.len() != 4 || w_dims.len() != 4 {
        return Err(unsupported(&op.kind, "only 2-D convolutions are supported"));
    }
    let kernel = w_dims[2..].to_vec();
    in_range(op, "kernel size", &kernel, 1)?;
    in_range(op, "input size", &x_dims[2..], -1)?;
    let strides = pair(op, "strides", 1)?;
    let mut dilations = pair(op, "dilations", 1)?;
    if op.str("padding_algorithm").unwrap_or("") == "SAME" {
        dilations = vec![1, 1];
    }
    let pads = pads(op, &x_dims, &kernel, &strides)?;
    let groups = op.int("groups").unwrap_or(1);
    in_range(op, "groups", &[groups], 1)?;
    let x = e.input(op, 0)?;
    let w = e.input(op, 1)?;
    let out = e.out(op, 0);
    e.node(
        "Conv",
        &[&x, &w],
        &out,
        &[
            Attr::ints("kernel_shape", &kernel),
            Attr::ints("strides", &strides),
            Attr::ints("pads", &pads),
            Attr::ints("dilations", &dilations),
            Attr::int("group", groups),
        ],
    );
    let declared = e.dims(op.output(0))?;
    if x_dims[2] >= 0 && x_dims[3] >= 0 {
        let size = |i: usize| {
            (x_dims[2 + i] + pads[i] + pads[2 + i] - dilations[i] * (kernel[i] - 1) - 1)
                / strides[i]
                + 1
        };
        check_spatial(op, &declared, [size(0), size(1)])?;
    }
    Ok(())
}

/// `batch_norm` (operands: x, mean, variance, scale, bias) →
/// `BatchNormalization` (X, scale, B, mean, var).
pub(super) fn batch_norm(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    check_nchw(op)?;
    let channels = e.dims(op.input(1))?;
    let x = e.input(op, 0)?;
    let mean = e.input(op, 1)?;
    let var = e.input(op, 2)?;
    let c = channels.first().copied().unwrap_or(0);
    let scale = match op.input(3) {
        0 => e.const_tensor(e.dtype(op.input(0))?, &[c], &vec![1.0; c.max(0) as usize])?,
        _ => e.input(op, 3)?,
    };
    let bias = match op.input(4) {
        0 => e.const_tensor(e.dtype(op.input(0))?, &[c], &vec![0.0; c.max(0) as usize])?,
        _ => e.input(op, 4)?,
    };
    let epsilon = op.float("epsilon")? as f32;
    let out = e.out(op, 0);
    e.node(
        "BatchNormalization",
        &[&x, &scale, &bias, &mean, &var],
        &out,
        &[Attr::float("epsilon", epsilon)],
    );
    Ok(())
}

/// `layer_norm` → `LayerNormalization` over the dims from `begin_norm_axis`.
pub(super) fn layer_norm(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dims = e.dims(op.input(0))?;
    let axis = norm_axis(op, op.int("begin_norm_axis")?, dims.len())?;
    let normalized = &dims[axis as usize..];
    if normalized.iter().any(|&d| d < 0) {
        return Err(unsupported(&op.kind, "the normalised dims must be static"));
    }
    let dtype = e.dtype(op.input(0))?;
    let n: i64 = normalized.iter().product();
    let x = e.input(op, 0)?;
    let affine = |e: &mut Emitter<'_>, i: usize, fill: f64| -> Result<String, ErrorKind> {
        let t = match op.input(i) {
            0 => e.const_tensor(dtype, &[n], &vec![fill; n as usize])?,
            _ => e.input(op, i)?,
        };
        if normalized.len() == 1 {
            return Ok(t);
        }
        let shape = e.const_i64(normalized);
        Ok(e.node_tmp("Reshape", &[&t, &shape], &[]))
    };
    let scale = affine(e, 1, 1.0)?;
    let bias = affine(e, 2, 0.0)?;
    let out = e.out(op, 0);
    if e.opset() >= 17 {
        e.node(
            "LayerNormalization",
            &[&x, &scale, &bias],
            &out,
            &[
                Attr::int("axis", axis),
                Attr::float("epsilon", op.float("epsilon")? as f32),
            ],
        );
        return Ok(());
    }
    // Before opset 17: (x - mean) / sqrt(var + eps) * scale + bias.
    let axes: Vec<i64> = (axis..dims.len() as i64).collect();
    let mean = reduce_mean(e, &x, &axes);
    let centred = e.node_tmp("Sub", &[&x, &mean], &[]);
    let sq = e.node_tmp("Mul", &[&centred, &centred], &[]);
    let var = reduce_mean(e, &sq, &axes);
    let eps = e.const_tensor(dtype, &[], &[op.float("epsilon")?])?;
    let var_eps = e.node_tmp("Add", &[&var, &eps], &[]);
    let std = e.node_tmp("Sqrt", &[&var_eps], &[]);
    let normed = e.node_tmp("Div", &[&centred, &std], &[]);
    let scaled = e.node_tmp("Mul", &[&normed, &scale], &[]);
    e.node("Add", &[&scaled, &bias], &out, &[]);
    Ok(())
}

/// `ReduceMean` over `axes`, keeping dims, for any opset.
pub(super) fn reduce_mean(e: &mut Emitter<'_>, x: &str, axes: &[i64]) -> String {
    if e.opset() >= 18 {
        let a = e.const_i64(axes);
        e.node_tmp("ReduceMean", &[x, &a], &[Attr::int("keepdims", 1)])
    } else {
        e.node_tmp(
            "ReduceMean",
            &[x],
            &[Attr::ints("axes", axes), Attr::int("keepdims", 1)],
        )
    }
}

/// `dropout` at inference: `upscale_in_train` is the identity,
/// `downgrade_in_infer` scales by `1 - p`.
pub(super) fn dropout(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let mode = op
        .str("mode")
        .or_else(|_| op.str("dropout_implementation"))?;
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    match mode {
        "upscale_in_train" => {
            e.node("Identity", &[&x], &out, &[]);
        }
        "downgrade_in_infer" => {
            let p = match op.input(2) {
                0 => op.float("dropout_prob").or_else(|_| op.float("p"))?,
                _ => e.const_scalar(op, 2)?,
            };
            let dtype = e.dtype(op.input(0))?;
            let keep = e.const_tensor(dtype, &[], &[1.0 - p])?;
            e.node("Mul", &[&x, &keep], &out, &[]);
        }
        other => {
            return Err(unsupported(
                &op.kind,
                format_args!("attribute `mode` = \"{other}\" is not supported"),
            ))
        }
    }
    Ok(())
}

/// `softmax`, `log_softmax` → `Softmax`, `LogSoftmax` (opset 13 semantics:
/// one axis).
pub(super) fn softmax(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axis = norm_axis(op, op.int("axis").unwrap_or(-1), rank)?;
    let onnx = if op.kind == "softmax" {
        "Softmax"
    } else {
        "LogSoftmax"
    };
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if e.opset() >= 13 || axis == rank as i64 - 1 {
        e.node(onnx, &[&x], &out, &[Attr::int("axis", axis)]);
        return Ok(());
    }
    // Older opsets flatten to 2-D around `axis`: move the axis last first.
    let mut perm: Vec<i64> = (0..rank as i64).collect();
    perm.swap(axis as usize, rank - 1);
    let t = e.node_tmp("Transpose", &[&x], &[Attr::ints("perm", &perm)]);
    let s = e.node_tmp(onnx, &[&t], &[Attr::int("axis", rank as i64 - 1)]);
    e.node("Transpose", &[&s], &out, &[Attr::ints("perm", &perm)]);
    Ok(())
}

/// `pool2d` → global, adaptive or windowed `AveragePool`/`MaxPool`.
pub(super) fn pool2d(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    check_nchw(op)?;
    let x_dims = e.dims(op.input(0))?;
    if x_dims.len() != 4 {
        return Err(unsupported(&op.kind, "only 4-D inputs are supported"));
    }
    let kernel = match op.input(1) {
        0 => op.ints("ksize").or_else(|_| op.ints("kernel_size"))?,
        _ => e.const_ints(op, 1)?,
    };
    let kernel = match kernel.len() {
        1 => vec![kernel[0], kernel[0]],
        2 => kernel,
        n => {
            return Err(unsupported(
                &op.kind,
                format_args!("a kernel size of {n} values is not supported"),
            ))
        }
    };
    in_range(op, "kernel size", &kernel, 1)?;
    in_range(op, "input size", &x_dims[2..], -1)?;
    let kind = op.str("pooling_type")?;
    let (global_onnx, window_onnx) = match kind {
        "avg" => ("GlobalAveragePool", "AveragePool"),
        "max" => ("GlobalMaxPool", "MaxPool"),
        other => {
            return Err(unsupported(
                &op.kind,
                format_args!("attribute `pooling_type` = \"{other}\" is not supported"),
            ))
        }
    };
    let global = op.bool_or("global_pooling", false)?;
    let adaptive = op.bool_or("adaptive", false)?;
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if global || (adaptive && kernel == [1, 1]) {
        e.node(global_onnx, &[&x], &out, &[]);
        return Ok(());
    }
    let (h, w) = (x_dims[2], x_dims[3]);
    if adaptive {
        if h < 0 || w < 0 {
            return Err(unsupported(
                &op.kind,
                "adaptive pooling to a size other than 1×1 needs a static input size",
            ));
        }
        let (oh, ow) = (kernel[0], kernel[1]);
        if oh <= 0 || ow <= 0 {
            return Err(unsupported(
                &op.kind,
                "adaptive output size must be positive",
            ));
        }
        if h % oh == 0 && w % ow == 0 {
            let stride = [h / oh, w / ow];
            e.node(
                window_onnx,
                &[&x],
                &out,
                &[
                    Attr::ints("kernel_shape", &stride),
                    Attr::ints("strides", &stride),
                ],
            );
            return Ok(());
        }
        return adaptive_uneven(e, op, &x, &out, kind, [h, w], [oh, ow]);
    }
    let strides = pair(op, "strides", 1)?;
    let pads = pads(op, &x_dims, &kernel, &strides)?;
    let ceil = op.bool_or("ceil_mode", false)?;
    let exclusive = op.bool_or("exclusive", true)?;
    let mut attrs = vec![
        Attr::ints("kernel_shape", &kernel),
        Attr::ints("strides", &strides),
        Attr::ints("pads", &pads),
        Attr::int("ceil_mode", i64::from(ceil)),
    ];
    let size = |i: usize, size: i64| {
        let span = size + pads[i] + pads[2 + i] - kernel[i];
        let mut n = if ceil {
            (span + strides[i] - 1) / strides[i] + 1
        } else {
            span / strides[i] + 1
        };
        // A last window that would start in the end padding is dropped.
        if ceil && (n - 1) * strides[i] >= size + pads[i] {
            n -= 1;
        }
        n
    };
    if kind == "avg" {
        // Paddle's non-exclusive average divides by the window clipped to
        // the padded input, as ONNX's count_include_pad does (also where a
        // ceil-mode window runs past the padding).
        attrs.push(Attr::int("count_include_pad", i64::from(!exclusive)));
    }
    e.node(window_onnx, &[&x], &out, &attrs);
    if h >= 0 && w >= 0 {
        check_spatial(op, &e.dims(op.output(0))?, [size(0, h), size(1, w)])?;
    }
    Ok(())
}

/// Adaptive pooling whose windows differ in size: window `i` covers
/// `[floor(i*in/out), ceil((i+1)*in/out))` on each axis. Average pooling is
/// one `MatMul` with a fixed averaging matrix; max pooling one `ReduceMax`
/// per output cell.
fn adaptive_uneven(
    e: &mut Emitter<'_>,
    op: &Op,
    x: &str,
    out: &str,
    kind: &str,
    [h, w]: [i64; 2],
    [oh, ow]: [i64; 2],
) -> Result<(), ErrorKind> {
    let window = |i: i64, input: i64, output: i64| {
        (i * input / output, ((i + 1) * input + output - 1) / output)
    };
    if (h * w).saturating_mul(oh * ow) > 1 << 22 {
        return Err(unsupported(
            &op.kind,
            "adaptive pooling window matrix is too large",
        ));
    }
    let dtype = e.dtype(op.input(0))?;
    if kind == "avg" {
        let mut m = vec![0.0; (h * w * oh * ow) as usize];
        for i in 0..oh {
            let (h0, h1) = window(i, h, oh);
            for j in 0..ow {
                let (w0, w1) = window(j, w, ow);
                let count = ((h1 - h0) * (w1 - w0)) as f64;
                for y in h0..h1 {
                    for x in w0..w1 {
                        m[((y * w + x) * oh * ow + i * ow + j) as usize] = 1.0 / count;
                    }
                }
            }
        }
        let matrix = e.const_tensor(dtype, &[h * w, oh * ow], &m)?;
        let flat_shape = e.const_i64(&[0, 0, h * w]);
        let flat = e.node_tmp("Reshape", &[x, &flat_shape], &[]);
        let pooled = e.node_tmp("MatMul", &[&flat, &matrix], &[]);
        let shape = e.const_i64(&[0, 0, oh, ow]);
        e.node("Reshape", &[&pooled, &shape], out, &[]);
        return Ok(());
    }
    let mut rows = Vec::new();
    for i in 0..oh {
        let (h0, h1) = window(i, h, oh);
        let mut cells = Vec::new();
        for j in 0..ow {
            let (w0, w1) = window(j, w, ow);
            let starts = e.const_i64(&[h0, w0]);
            let ends = e.const_i64(&[h1, w1]);
            let axes = e.const_i64(&[2, 3]);
            let cell = e.node_tmp("Slice", &[x, &starts, &ends, &axes], &[]);
            let reduced = if e.opset() >= 18 {
                let a = e.const_i64(&[2, 3]);
                e.node_tmp("ReduceMax", &[&cell, &a], &[Attr::int("keepdims", 1)])
            } else {
                e.node_tmp(
                    "ReduceMax",
                    &[&cell],
                    &[Attr::ints("axes", &[2, 3]), Attr::int("keepdims", 1)],
                )
            };
            cells.push(reduced);
        }
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        rows.push(e.node_tmp("Concat", &refs, &[Attr::int("axis", 3)]));
    }
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    e.node("Concat", &refs, out, &[Attr::int("axis", 2)]);
    Ok(())
}
