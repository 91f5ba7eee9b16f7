//! Shape and layout operators: `reshape`, `flatten`, `transpose`, `concat`,
//! `split`, `slice`, `squeeze`, `shape`, `stack`, `expand`, `roll`, ...

use crate::error::{unsupported, ErrorKind};
use crate::onnx::Attr;
use crate::program::{DType, Op, ValueType};

use super::{norm_axis, onnx_code, Emitter};

/// `builtin.split`: names the parts of a list value produced by `split`.
pub(super) fn unpack(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let list = op.input(0);
    if let Some(items) = e.lists.get(&list).cloned() {
        // Unpacking a `builtin.combine`: the parts are the combined values.
        for (out, item) in op.outputs.iter().zip(items) {
            if let Some(c) = e.constant(item).cloned() {
                e.set_const(*out, c);
            } else {
                let name = e.name(item)?;
                e.set_name(*out, name);
            }
        }
        return Ok(());
    }
    for (i, out) in op.outputs.iter().enumerate() {
        if *out != 0 {
            e.set_name(*out, format!("v{list}_{i}"));
        }
    }
    Ok(())
}

/// `cast` → `Cast`.
pub(super) fn cast(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let to = onnx_code(op.dtype("dtype")?)?;
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    e.node("Cast", &[&x], &out, &[Attr::int("to", to)]);
    Ok(())
}

/// An `int64` shape tensor for operand `i`: a constant, or the run-time
/// value cast to `int64`.
fn shape_operand(
    e: &mut Emitter<'_>,
    op: &Op,
    i: usize,
    map: impl Fn(i64) -> i64,
) -> Result<String, ErrorKind> {
    if let Ok(values) = e.const_ints(op, i) {
        let values: Vec<i64> = values.into_iter().map(map).collect();
        return Ok(e.const_i64(&values));
    }
    let id = op.input(i);
    let name = if e.lists.contains_key(&id) {
        // A list of scalars or 1-element tensors: concatenate them.
        let items = e.list(op, i)?;
        let mut parts = Vec::new();
        for item in items {
            let part = if let Some(c) = e.constant(item).cloned() {
                let v: Vec<i64> = c.ints().into_iter().map(&map).collect();
                e.const_i64(&v)
            } else {
                let n = e.name(item)?;
                let n = to_i64(e, item, n)?;
                if e.dims(item)?.is_empty() {
                    let zero = e.const_i64(&[0]);
                    e.node_tmp("Unsqueeze", &[&n, &zero], &[])
                } else {
                    n
                }
            };
            parts.push(part);
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        e.node_tmp("Concat", &refs, &[Attr::int("axis", 0)])
    } else {
        let n = e.name(id)?;
        to_i64(e, id, n)?
    };
    Ok(name)
}

fn to_i64(e: &mut Emitter<'_>, id: i64, name: String) -> Result<String, ErrorKind> {
    if e.dtype(id)? == DType::I64 {
        return Ok(name);
    }
    Ok(e.node_tmp("Cast", &[&name], &[Attr::int("to", onnx_code(DType::I64)?)]))
}

/// `reshape` → `Reshape` (0 copies a dim and -1 is inferred, in both).
pub(super) fn reshape(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let x = e.input(op, 0)?;
    let shape = shape_operand(e, op, 1, |v| v)?;
    let out = e.out(op, 0);
    e.node("Reshape", &[&x, &shape], &out, &[]);
    Ok(())
}

/// `flatten(start_axis, stop_axis)` → `Reshape`.
pub(super) fn flatten(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dims = e.dims(op.input(0))?;
    let rank = dims.len();
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if rank == 0 {
        let shape = e.const_i64(&[1]);
        e.node("Reshape", &[&x, &shape], &out, &[]);
        return Ok(());
    }
    let start = norm_axis(op, op.int("start_axis")?, rank)? as usize;
    let stop = norm_axis(op, op.int("stop_axis")?, rank)? as usize;
    if start > stop {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: start_axis {start} > stop_axis {stop}",
            op.kind
        )));
    }
    // Leading dims keep their place (0 copies them); trailing ones must be static.
    let mut shape: Vec<i64> = vec![0; start];
    shape.push(-1);
    for &d in &dims[stop + 1..] {
        if d < 0 {
            return Err(unsupported(&op.kind, "dims after stop_axis must be static"));
        }
        shape.push(d);
    }
    let s = e.const_i64(&shape);
    e.node("Reshape", &[&x, &s], &out, &[]);
    Ok(())
}

/// `transpose(perm)` → `Transpose`.
pub(super) fn transpose(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let perm: Vec<i64> = op
        .ints("perm")?
        .iter()
        .map(|&p| norm_axis(op, p, rank))
        .collect::<Result<_, _>>()?;
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    e.node("Transpose", &[&x], &out, &[Attr::ints("perm", &perm)]);
    Ok(())
}

/// `concat(list, axis)` → `Concat`.
pub(super) fn concat(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let items = e.list(op, 0)?;
    let first = *items
        .first()
        .ok_or_else(|| ErrorKind::Program("concat of nothing".into()))?;
    let rank = e.dims(first)?.len();
    let axis = match op.input(1) {
        0 => op.int("axis")?,
        _ => e.const_scalar(op, 1)? as i64,
    };
    let axis = norm_axis(op, axis, rank)?;
    let names = items
        .iter()
        .map(|&v| e.name(v))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = e.out(op, 0);
    e.node("Concat", &refs, &out, &[Attr::int("axis", axis)]);
    Ok(())
}

/// `split(x, sections, axis)` / `split_with_num(x, axis; num)` → `Split`;
/// the parts are named for the `builtin.split` that unpacks them.
pub(super) fn split(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dims = e.dims(op.input(0))?;
    let (sections, axis_operand) = if op.kind == "split_with_num" {
        (None, 1)
    } else {
        (Some(e.const_ints(op, 1)?), 2)
    };
    let axis = match op.input(axis_operand) {
        0 => op.int("axis")?,
        _ => e.const_scalar(op, axis_operand)? as i64,
    };
    let axis = norm_axis(op, axis, dims.len())?;
    let size = dims[axis as usize];
    if size < 0 {
        return Err(unsupported(&op.kind, "the split axis must be static"));
    }
    let sections = match sections {
        Some(mut s) => {
            let known: i128 = s.iter().filter(|&&v| v >= 0).map(|&v| i128::from(v)).sum();
            if let Some(p) = s.iter().position(|&v| v < 0) {
                s[p] = i64::try_from(i128::from(size) - known).unwrap_or(-1);
            }
            s
        }
        None => {
            let num = op.int("num")?;
            if num <= 0 || size % num != 0 {
                return Err(ErrorKind::Program(format!(
                    "operator `{}`: cannot split {size} into {num}",
                    op.kind
                )));
            }
            vec![size / num; num as usize]
        }
    };
    if sections.iter().map(|&s| i128::from(s)).sum::<i128>() != i128::from(size)
        || sections.iter().any(|&s| s < 0)
    {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: sections {sections:?} do not add up to {size}",
            op.kind
        )));
    }
    let list = op.output(0);
    let outs: Vec<String> = (0..sections.len())
        .map(|i| format!("v{list}_{i}"))
        .collect();
    if let Some(ValueType::List(parts)) = e.prog.types.get(&list) {
        if parts.len() != sections.len() {
            return Err(ErrorKind::Program(format!(
                "operator `{}`: {} sections for {} results",
                op.kind,
                sections.len(),
                parts.len()
            )));
        }
    }
    let x = e.input(op, 0)?;
    let sizes = e.const_i64(&sections);
    let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
    if e.opset() >= 13 {
        e.g.node("Split", &[&x, &sizes], &refs, &[Attr::int("axis", axis)]);
    } else {
        e.g.node(
            "Split",
            &[&x],
            &refs,
            &[Attr::int("axis", axis), Attr::ints("split", &sections)],
        );
    }
    Ok(())
}

/// `squeeze(x, axes)` → `Squeeze` (no axes: every size-1 dim).
pub(super) fn squeeze(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dims = e.dims(op.input(0))?;
    let axes = match op.input(1) {
        0 => op.ints("axes").unwrap_or_default(),
        _ => e.const_ints(op, 1)?,
    };
    let mut axes: Vec<i64> = axes
        .iter()
        .map(|&a| norm_axis(op, a, dims.len()))
        .collect::<Result<_, _>>()?;
    // Paddle leaves axes whose size is not 1 alone; ONNX would fail.
    axes.retain(|&a| dims[a as usize] == 1 || dims[a as usize] < 0);
    if axes.is_empty() {
        axes = (0..dims.len() as i64)
            .filter(|&a| dims[a as usize] == 1)
            .collect();
    }
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if axes.is_empty() {
        e.node("Identity", &[&x], &out, &[]);
        return Ok(());
    }
    axes_node(e, "Squeeze", &x, &out, &axes);
    Ok(())
}

/// `unsqueeze(x, axes)` → `Unsqueeze`.
pub(super) fn unsqueeze(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axes = match op.input(1) {
        0 => op.ints("axes")?,
        _ => e.const_ints(op, 1)?,
    };
    let out_rank = (rank + axes.len()) as i64;
    let axes: Vec<i64> = axes
        .iter()
        .map(|&a| if a < 0 { a + out_rank } else { a })
        .collect();
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    axes_node(e, "Unsqueeze", &x, &out, &axes);
    Ok(())
}

fn axes_node(e: &mut Emitter<'_>, onnx: &str, x: &str, out: &str, axes: &[i64]) {
    if e.opset() >= 13 {
        let a = e.const_i64(axes);
        e.node(onnx, &[x, &a], out, &[]);
    } else {
        e.node(onnx, &[x], out, &[Attr::ints("axes", axes)]);
    }
}

/// `shape` (int32) / `shape64` → `Shape` (a static shape was folded).
pub(super) fn shape(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let x = e.input(op, 0)?;
    let out = e.out(op, 0);
    if op.kind == "shape" {
        let s = e.node_tmp("Shape", &[&x], &[]);
        e.node(
            "Cast",
            &[&s],
            &out,
            &[Attr::int("to", onnx_code(DType::I32)?)],
        );
    } else {
        e.node("Shape", &[&x], &out, &[]);
    }
    Ok(())
}

fn slice_inputs(
    e: &mut Emitter<'_>,
    op: &Op,
    axes: &[i64],
    rank: usize,
    steps: Option<usize>,
) -> Result<Vec<String>, ErrorKind> {
    let axes: Vec<i64> = axes
        .iter()
        .map(|&a| norm_axis(op, a, rank))
        .collect::<Result<_, _>>()?;
    let x = e.input(op, 0)?;
    let starts = shape_operand(e, op, 1, |v| v)?;
    let ends = shape_operand(e, op, 2, |v| v)?;
    let a = e.const_i64(&axes);
    let mut inputs = vec![x, starts, ends, a];
    if let Some(i) = steps {
        inputs.push(shape_operand(e, op, i, |v| v)?);
    }
    Ok(inputs)
}

/// `slice(x, starts, ends; axes, decrease_axis)` → `Slice` (+ `Squeeze`).
pub(super) fn slice(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axes = op.ints("axes")?;
    let inputs = slice_inputs(e, op, &axes, rank, None)?;
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let out = e.out(op, 0);
    let decrease = op.ints("decrease_axis").unwrap_or_default();
    if decrease.is_empty() {
        e.node("Slice", &refs, &out, &[]);
        return Ok(());
    }
    let sliced = e.node_tmp("Slice", &refs, &[]);
    let decrease: Vec<i64> = decrease
        .iter()
        .map(|&a| norm_axis(op, a, rank))
        .collect::<Result<_, _>>()?;
    if decrease.len() == rank {
        // Paddle keeps a 1-element result 1-D... unless it is 0-D in PIR.
        let declared = e.dims(op.output(0))?;
        if declared.len() == 1 {
            let shape = e.const_i64(&[1]);
            e.node("Reshape", &[&sliced, &shape], &out, &[]);
            return Ok(());
        }
    }
    axes_node(e, "Squeeze", &sliced, &out, &decrease);
    Ok(())
}

/// `strided_slice(x, starts, ends, strides; axes)` → `Slice` with steps.
pub(super) fn strided_slice(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axes = op.ints("axes")?;
    let inputs = slice_inputs(e, op, &axes, rank, Some(3))?;
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let out = e.out(op, 0);
    e.node("Slice", &refs, &out, &[]);
    Ok(())
}

/// `stack(list, axis)` → `Unsqueeze` each, then `Concat`.
pub(super) fn stack(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let items = e.list(op, 0)?;
    let first = *items
        .first()
        .ok_or_else(|| ErrorKind::Program("stack of nothing".into()))?;
    let rank = e.dims(first)?.len() + 1;
    let axis = op.int("axis").unwrap_or(0);
    let axis = norm_axis(op, axis, rank)?;
    let mut parts = Vec::new();
    for item in items {
        let n = e.name(item)?;
        let u = e.tmp("stack");
        axes_node(e, "Unsqueeze", &n, &u, &[axis]);
        parts.push(u);
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let out = e.out(op, 0);
    e.node("Concat", &refs, &out, &[Attr::int("axis", axis)]);
    Ok(())
}

/// `expand(x, shape)` → `Expand` (Paddle's -1 keeps a dim: 1 in ONNX).
pub(super) fn expand(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let x = e.input(op, 0)?;
    let known = e.const_ints(op, 1).is_ok();
    let mut shape = shape_operand(e, op, 1, |v| if v == -1 { 1 } else { v })?;
    if !known {
        // A run-time shape may hold -1 too: max(s, 1) turns it into 1.
        let one = e.const_i64(&[1]);
        shape = e.node_tmp("Max", &[&shape, &one], &[]);
    }
    let out = e.out(op, 0);
    e.node("Expand", &[&x, &shape], &out, &[]);
    Ok(())
}

/// `roll(x, shifts; axis)` → two `Slice`s and a `Concat` per axis.
pub(super) fn roll(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let dims = e.dims(op.input(0))?;
    let shifts = match op.input(1) {
        0 => op.ints("shifts")?,
        _ => e.const_ints(op, 1)?,
    };
    let axes = op.ints("axis")?;
    if axes.is_empty() || axes.len() != shifts.len() {
        return Err(unsupported(
            &op.kind,
            "a roll over the flattened tensor is not supported",
        ));
    }
    let mut cur = e.input(op, 0)?;
    for (&axis, &shift) in axes.iter().zip(&shifts) {
        let axis = norm_axis(op, axis, dims.len())?;
        let n = dims[axis as usize];
        if n < 0 {
            return Err(unsupported(&op.kind, "the rolled axis must be static"));
        }
        let s = shift.rem_euclid(n.max(1));
        if s == 0 {
            continue;
        }
        let a = e.const_i64(&[axis]);
        let (s0, e0) = (e.const_i64(&[n - s]), e.const_i64(&[n]));
        let tail = e.node_tmp("Slice", &[&cur, &s0, &e0, &a], &[]);
        let (s1, e1) = (e.const_i64(&[0]), e.const_i64(&[n - s]));
        let head = e.node_tmp("Slice", &[&cur, &s1, &e1, &a], &[]);
        cur = e.node_tmp("Concat", &[&tail, &head], &[Attr::int("axis", axis)]);
    }
    let out = e.out(op, 0);
    e.node("Identity", &[&cur], &out, &[]);
    Ok(())
}

/// `index_select(x, index; axis)`, `gather(x, index, axis)` → `Gather`.
pub(super) fn gather(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let axis = match (op.kind.as_str(), op.input(2)) {
        ("gather", id) if id != 0 => e.const_scalar(op, 2)? as i64,
        _ => op.int("axis").unwrap_or(0),
    };
    let axis = norm_axis(op, axis, rank)?;
    let x = e.input(op, 0)?;
    let index = e.input(op, 1)?;
    let out = e.out(op, 0);
    e.node("Gather", &[&x, &index], &out, &[Attr::int("axis", axis)]);
    Ok(())
}

/// `full_like(x, value)` on a tensor of run-time shape → `Expand` of the
/// value to `x`'s shape.
pub(super) fn full_like(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let value = e.const_scalar(op, 1)?;
    let dtype = op.dtype("dtype").or_else(|_| e.dtype(op.input(0)))?;
    let x = e.input(op, 0)?;
    let shape = e.node_tmp("Shape", &[&x], &[]);
    let v = e.const_tensor(dtype, &[], &[value])?;
    let out = e.out(op, 0);
    e.node("Expand", &[&v, &shape], &out, &[]);
    Ok(())
}

/// `pad(x, pad_value; paddings)`: `paddings` holds (before, after) per dim
/// → `Pad` with ONNX's (all befores, all afters) order.
pub(super) fn pad(e: &mut Emitter<'_>, op: &Op) -> Result<(), ErrorKind> {
    let rank = e.dims(op.input(0))?.len();
    let p = op.ints("paddings")?;
    if p.len() != 2 * rank {
        return Err(unsupported(
            &op.kind,
            format_args!("{} paddings for a tensor of rank {rank}", p.len()),
        ));
    }
    let mode = op.str("mode").unwrap_or("constant");
    if mode != "constant" {
        return Err(unsupported(
            &op.kind,
            format_args!("attribute `mode` = \"{mode}\" is not supported"),
        ));
    }
    let value = match op.input(1) {
        0 => op.float("pad_value").unwrap_or(0.0),
        _ => e.const_scalar(op, 1)?,
    };
    let pads: Vec<i64> = (0..rank)
        .map(|i| p[2 * i])
        .chain((0..rank).map(|i| p[2 * i + 1]))
        .collect();
    let x = e.input(op, 0)?;
    let pads = e.const_i64(&pads);
    let v = e.const_tensor(e.dtype(op.input(0))?, &[], &[value])?;
    let out = e.out(op, 0);
    e.node("Pad", &[&x, &pads, &v], &out, &[]);
    Ok(())
}
