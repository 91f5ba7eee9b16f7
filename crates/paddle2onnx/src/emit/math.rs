//! Element-wise arithmetic, activations, `matmul`, `scale`, reductions.

use crate::error::{unsupported, ErrorKind};
use crate::onnx::Attr;
use crate::program::Op;

use super::{norm_axis, Emitter};

/// Two-operand element-wise operators (numpy broadcasting in both).
pub(super) fn binary(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let kind = op.kind.trim_end_matches('_');
    let x = e.input(op, 0)?;
    let y = e.input(op, 1)?;
    let out = e.out(op, 0);
    let is_float = e.dtype(op.input(0))?.is_float();
    let simple = match kind {
        "add" => Some("Add"),
        "subtract" => Some("Sub"),
        "multiply" => Some("Mul"),
        "divide" => Some("Div"),
        "maximum" => Some("Max"),
        "minimum" => Some("Min"),
        "elementwise_pow" => Some("Pow"),
        "equal" => Some("Equal"),
        "less_than" => Some("Less"),
        "less_equal" => Some("LessOrEqual"),
        "greater_than" => Some("Greater"),
        "greater_equal" => Some("GreaterOrEqual"),
        "logical_and" => Some("And"),
        "logical_or" => Some("Or"),
        _ => None,
    };
    if let Some(onnx) = simple {
        e.node(onnx, &[&x, &y], &out, &[]);
        return Ok(());
    }
    match kind {
        "not_equal" => {
            let eq = e.node_tmp("Equal", &[&x, &y], &[]);
            e.node("Not", &[&eq], &out, &[]);
        }
        "floor_divide" if is_float => {
            let q = e.node_tmp("Div", &[&x, &y], &[]);
            e.node("Floor", &[&q], &out, &[]);
        }
        "floor_divide" => {
            // Integer division rounding toward -inf: q = trunc(x/y), minus one
            // where the remainder is non-zero and the signs differ.
            let q = e.node_tmp("Div", &[&x, &y], &[]);
            let back = e.node_tmp("Mul", &[&q, &y], &[]);
            let exact = e.node_tmp("Equal", &[&back, &x], &[]);
            let inexact = e.node_tmp("Not", &[&exact], &[]);
            let xor_sign = {
                let zero = e.const_tensor(e.dtype(op.input(0))?, &[], &[0.0])?;
                let xn = e.node_tmp("Less", &[&x, &zero], &[]);
                let yn = e.node_tmp("Less", &[&y, &zero], &[]);
                e.node_tmp("Xor", &[&xn, &yn], &[])
            };
            let fix = e.node_tmp("And", &[&inexact, &xor_sign], &[]);
            let fix = e.node_tmp(
                "Cast",
                &[&fix],
                &[Attr::int("to", super::onnx_code(e.dtype(op.input(0))?)?)],
            );
            e.node("Sub", &[&q, &fix], &out, &[]);
        }
        "remainder" if !is_float => {
            e.node("Mod", &[&x, &y], &out, &[Attr::int("fmod", 0)]);
        }
        other => return Err(unsupported(other, "no ONNX translation")),
    }
    Ok(())
}

/// One-operand activations and maths.
pub(super) fn unary(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let kind = op.kind.trim_end_matches('_');
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    let dtype = e.dtype(op.input(0))?;
    let simple = match kind {
        "relu" => Some("Relu"),
        "sigmoid" => Some("Sigmoid"),
        "tanh" => Some("Tanh"),
        "exp" => Some("Exp"),
        "sqrt" => Some("Sqrt"),
        "abs" => Some("Abs"),
        "erf" => Some("Erf"),
        "log" => Some("Log"),
        "floor" => Some("Floor"),
        "ceil" => Some("Ceil"),
        "logical_not" => Some("Not"),
        "reciprocal" => Some("Reciprocal"),
        "sin" => Some("Sin"),
        "cos" => Some("Cos"),
        "softplus" if op.float("beta").unwrap_or(1.0) == 1.0 => Some("Softplus"),
        _ => None,
    };
    if let Some(onnx) = simple {
        e.node(onnx, &[&x], &out, &[]);
        return Ok(());
    }
    match kind {
        "relu6" => {
            let lo = e.const_tensor(dtype, &[], &[0.0])?;
            let hi = e.const_tensor(dtype, &[], &[op.float("threshold").unwrap_or(6.0)])?;
            e.node("Clip", &[&x, &lo, &hi], &out, &[]);
        }
        "square" => e.node("Mul", &[&x, &x], &out, &[]),
        "rsqrt" => {
            let s = e.node_tmp("Sqrt", &[&x], &[]);
            e.node("Reciprocal", &[&s], &out, &[]);
        }
        "hardswish" => {
            // Legacy programs carry threshold/scale/offset; PIR's are fixed at 6, 6, 3.
            let threshold = op.float("threshold").unwrap_or(6.0);
            let scale = op.float("scale").unwrap_or(6.0);
            let offset = op.float("offset").unwrap_or(3.0);
            if (threshold, scale, offset) == (6.0, 6.0, 3.0) && e.opset() >= 14 {
                e.node("HardSwish", &[&x], &out, &[]);
            } else {
                let off = e.const_tensor(dtype, &[], &[offset])?;
                let lo = e.const_tensor(dtype, &[], &[0.0])?;
                let hi = e.const_tensor(dtype, &[], &[threshold])?;
                let sc = e.const_tensor(dtype, &[], &[scale])?;
                let shifted = e.node_tmp("Add", &[&x, &off], &[]);
                let clipped = e.node_tmp("Clip", &[&shifted, &lo, &hi], &[]);
                let prod = e.node_tmp("Mul", &[&x, &clipped], &[]);
                e.node("Div", &[&prod, &sc], &out, &[]);
            }
        }
        "hardsigmoid" => {
            // Never ONNX's defaults: Paddle's slope is 1/6 (0.2 in MobileNetV3).
            let slope = op.float("slope")?;
            let offset = op.float("offset")?;
            e.node(
                "HardSigmoid",
                &[&x],
                &out,
                &[
                    Attr::float("alpha", slope as f32),
                    Attr::float("beta", offset as f32),
                ],
            );
        }
        "swish" | "silu" => {
            let beta = op.float("beta").unwrap_or(1.0);
            let arg = if beta == 1.0 {
                x.clone()
            } else {
                let b = e.const_tensor(dtype, &[], &[beta])?;
                e.node_tmp("Mul", &[&x, &b], &[])
            };
            let s = e.node_tmp("Sigmoid", &[&arg], &[]);
            e.node("Mul", &[&x, &s], &out, &[]);
        }
        "mish" => {
            let sp = e.node_tmp("Softplus", &[&x], &[]);
            let t = e.node_tmp("Tanh", &[&sp], &[]);
            e.node("Mul", &[&x, &t], &out, &[]);
        }
        "gelu" => {
            let half = e.const_tensor(dtype, &[], &[0.5])?;
            let one = e.const_tensor(dtype, &[], &[1.0])?;
            let inner = if op.bool_or("approximate", false)? {
                // tanh(sqrt(2/pi) * (x + 0.044715 x^3))
                let c = e.const_tensor(dtype, &[], &[0.044715])?;
                let k = e.const_tensor(dtype, &[], &[(2.0 / std::f64::consts::PI).sqrt()])?;
                let x2 = e.node_tmp("Mul", &[&x, &x], &[]);
                let x3 = e.node_tmp("Mul", &[&x2, &x], &[]);
                let cx3 = e.node_tmp("Mul", &[&x3, &c], &[]);
                let sum = e.node_tmp("Add", &[&x, &cx3], &[]);
                let arg = e.node_tmp("Mul", &[&sum, &k], &[]);
                e.node_tmp("Tanh", &[&arg], &[])
            } else {
                let r2 = e.const_tensor(dtype, &[], &[std::f64::consts::SQRT_2])?;
                let d = e.node_tmp("Div", &[&x, &r2], &[]);
                e.node_tmp("Erf", &[&d], &[])
            };
            let p1 = e.node_tmp("Add", &[&inner, &one], &[]);
            let hx = e.node_tmp("Mul", &[&x, &half], &[]);
            e.node("Mul", &[&hx, &p1], &out, &[]);
        }
        "leaky_relu" => {
            let alpha = op.float("negative_slope").or_else(|_| op.float("alpha"))?;
            e.node(
                "LeakyRelu",
                &[&x],
                &out,
                &[Attr::float("alpha", alpha as f32)],
            );
        }
        "elu" => {
            let alpha = op.float("alpha").unwrap_or(1.0);
            e.node("Elu", &[&x], &out, &[Attr::float("alpha", alpha as f32)]);
        }
        "softplus" => {
            // (1/beta) * log(1 + exp(beta x)); Paddle's threshold switch to
            // the identity is not modelled.
            return Err(unsupported(
                &op.kind,
                "attribute `beta` other than 1 is not supported",
            ));
        }
        other => return Err(unsupported(other, "no ONNX translation")),
    }
    Ok(())
}

/// `pow` with its exponent attribute `y`.
pub(super) fn pow(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dtype = e.dtype(op.input(0))?;
    let exponent = match op.input(1) {
        0 => op.float("y")?,
        _ => e.const_scalar(op, 1)?,
    };
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if exponent == 2.0 {
        e.node("Mul", &[&x, &x], &out, &[]);
    } else {
        let y = e.const_tensor(dtype, &[], &[exponent])?;
        e.node("Pow", &[&x, &y], &out, &[]);
    }
    Ok(())
}

/// `scale`: `x * s + b`, or `(x + b) * s` when `bias_after_scale` is false.
pub(super) fn scale(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dtype = e.dtype(op.input(0))?;
    let s = match op.input(1) {
        0 => op.float("scale")?,
        _ => e.const_scalar(op, 1)?,
    };
    let b = op.float("bias").unwrap_or(0.0);
    let after = op.bool_or("bias_after_scale", true)?;
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    let sc = e.const_tensor(dtype, &[], &[s])?;
    if b == 0.0 {
        e.node("Mul", &[&x, &sc], &out, &[]);
        return Ok(());
    }
    let bias = e.const_tensor(dtype, &[], &[b])?;
    if after {
        let m = e.node_tmp("Mul", &[&x, &sc], &[]);
        e.node("Add", &[&m, &bias], &out, &[]);
    } else {
        let a = e.node_tmp("Add", &[&x, &bias], &[]);
        e.node("Mul", &[&a, &sc], &out, &[]);
    }
    Ok(())
}

/// `clip` with its `min`/`max` operands (or attributes).
pub(super) fn clip(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dtype = e.dtype(op.input(0))?;
    let lo = match op.input(1) {
        0 => op.float("min")?,
        _ => e.const_scalar(op, 1)?,
    };
    let hi = match op.input(2) {
        0 => op.float("max")?,
        _ => e.const_scalar(op, 2)?,
    };
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    let lo = e.const_tensor(dtype, &[], &[lo])?;
    let hi = e.const_tensor(dtype, &[], &[hi])?;
    e.node("Clip", &[&x, &lo, &hi], &out, &[]);
    Ok(())
}

/// `where(cond, x, y)`.
pub(super) fn where_(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let c = e.input(op, 0)?;
    let x = e.input(op, 1)?;
    let y = e.input(op, 2)?;
    let out = e.out(op, 0);
    e.node("Where", &[&c, &x, &y], &out, &[]);
    Ok(())
}

/// `matmul` with `transpose_x` / `transpose_y` (the last two dims).
pub(super) fn matmul(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let operand = |e: &mut Emitter<'_>, i: usize, flag: &str| -> Result<String, ErrorKind> {
        let name = e.input(op, i)?;
        let rank = e.dims(op.input(i))?.len();
        if !op.bool_or(flag, false)? || rank < 2 {
            return Ok(name);
        }
        let mut perm: Vec<i64> = (0..rank as i64).collect();
        perm.swap(rank - 2, rank - 1);
        Ok(e.node_tmp("Transpose", &[&name], &[Attr::ints("perm", &perm)]))
    };
    let x = operand(e, 0, "transpose_x")?;
    let y = operand(e, 1, "transpose_y")?;
    let out = e.out(op, 0);
    e.node("MatMul", &[&x, &y], &out, &[]);
    Ok(())
}

/// `mean`, `sum`, `max`, `min`, `prod` over the axes operand.
pub(super) fn reduce(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axes = match op.input(1) {
        0 => op.ints("axis").unwrap_or_default(),
        _ => e.const_ints(op, 1)?,
    };
    let reduce_all = op.bool_or("reduce_all", false)? || axes.is_empty();
    let axes: Vec<i64> = if reduce_all {
        (0..rank as i64).collect()
    } else {
        axes.iter()
            .map(|&a| norm_axis(op, a, rank))
            .collect::<Result<_, _>>()?
    };
    let keep = i64::from(op.bool_or("keepdim", false)?);
    let onnx = match op.kind.as_str() {
        "mean" => "ReduceMean",
        "sum" => "ReduceSum",
        "max" => "ReduceMax",
        "min" => "ReduceMin",
        _ => "ReduceProd",
    };
    if op.kind == "sum" {
        if let Ok(d) = op.dtype("dtype") {
            if d != e.dtype(op.input(0))? {
                return Err(unsupported(
                    &op.kind,
                    "a sum into another dtype is not supported",
                ));
            }
        }
    }
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    // ReduceSum takes its axes as an input from opset 13, the others from 18.
    if e.opset() >= 18 || (onnx == "ReduceSum" && e.opset() >= 13) {
        let a = e.const_i64(&axes);
        e.node(onnx, &[&x, &a], &out, &[Attr::int("keepdims", keep)]);
    } else {
        e.node(
            onnx,
            &[&x],
            &out,
            &[Attr::ints("axes", &axes), Attr::int("keepdims", keep)],
        );
    }
    Ok(())
}
