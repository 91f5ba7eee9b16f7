//! Constant folding: operators whose operands are all known at conversion
//! time are evaluated here instead of being written to the graph. This is
//! how `full`/`full_int_array` operands (kernel sizes, shapes, axes, dropout
//! rates) reach the translations that need them as attributes, and how
//! shape arithmetic on static shapes and Swin's attention mask disappear.

use crate::error::{unsupported, ErrorKind};
use crate::onnx::{DataType, GraphBuilder};
use crate::program::{DType, Op};

use super::{norm_axis, Emitter};

/// The most elements a folded constant may have (real programs fold
/// shapes, scalars and masks of a few thousand elements).
const MAX_ELEMENTS: u64 = 1 << 22;

/// A tensor known at conversion time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Const {
    /// Element type.
    pub(crate) dtype: DType,
    /// Dimensions.
    pub(crate) dims: Vec<i64>,
    data: Data,
}

#[derive(Debug, Clone, PartialEq)]
enum Data {
    F(Vec<f64>),
    I(Vec<i64>),
}

fn numel(dims: &[i64]) -> Option<u64> {
    dims.iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?))
}

impl Const {
    /// A constant from numbers, stored as `dtype` requires.
    pub(crate) fn from_floats(dtype: DType, dims: Vec<i64>, values: Vec<f64>) -> Const {
        let data = if dtype.is_float() {
            Data::F(values)
        } else {
            Data::I(values.into_iter().map(|v| v as i64).collect())
        };
        Const { dtype, dims, data }
    }

    /// A constant from integers.
    pub(crate) fn ints_of(dtype: DType, dims: Vec<i64>, values: Vec<i64>) -> Const {
        let data = if dtype.is_float() {
            Data::F(values.into_iter().map(|v| v as f64).collect())
        } else {
            Data::I(values)
        };
        Const { dtype, dims, data }
    }

    /// Element count.
    pub(crate) fn len(&self) -> usize {
        match &self.data {
            Data::F(v) => v.len(),
            Data::I(v) => v.len(),
        }
    }

    /// The elements as integers.
    pub(crate) fn ints(&self) -> Vec<i64> {
        match &self.data {
            Data::F(v) => v.iter().map(|&f| f as i64).collect(),
            Data::I(v) => v.clone(),
        }
    }

    /// The elements as floats.
    pub(crate) fn floats(&self) -> Vec<f64> {
        match &self.data {
            Data::F(v) => v.clone(),
            Data::I(v) => v.iter().map(|&i| i as f64).collect(),
        }
    }

    fn with_values(&self, dims: Vec<i64>, f: Vec<f64>) -> Const {
        Const::from_floats(self.dtype, dims, f)
    }

    /// Writes it as an initializer called `name`.
    pub(crate) fn write(&self, g: &mut GraphBuilder, name: &str) -> Result<(), ErrorKind> {
        let elem = self.dtype.onnx()?;
        let raw: Vec<u8> = match (&self.data, elem) {
            (Data::F(v), DataType::Float) => {
                v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
            }
            (Data::F(v), DataType::Double) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            (Data::I(v), DataType::Int64) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            (Data::I(v), DataType::Int32) => {
                v.iter().flat_map(|&x| (x as i32).to_le_bytes()).collect()
            }
            (Data::I(v), DataType::Bool | DataType::Uint8 | DataType::Int8) => {
                v.iter().map(|&x| x as u8).collect()
            }
            _ => {
                return Err(ErrorKind::Unsupported(format!(
                    "a constant of type {:?} cannot be written",
                    self.dtype
                )))
            }
        };
        g.initializer_raw(name, &self.dims, elem, raw);
        Ok(())
    }
}

/// Evaluates `op` if it can be folded; returns whether it was.
pub(crate) fn fold(e: &mut Emitter<'_>, op: &Op) -> Result<bool, ErrorKind> {
    let result = match op.kind.as_str() {
        "full" => {
            let dims = op.ints("shape")?;
            let dtype = op.dtype("dtype")?;
            let n = checked_numel(op, &dims)?;
            let value = op.float("value")?;
            Some(Const::from_floats(dtype, dims, vec![value; n]))
        }
        "full_int_array" => {
            let values = op.ints("value")?;
            let dtype = op.dtype("dtype").unwrap_or(DType::I64);
            Some(Const::ints_of(dtype, vec![values.len() as i64], values))
        }
        "assign_value" | "assign_value_" => {
            let dims = op.ints("shape")?;
            let dtype = op.dtype("dtype")?;
            let values = op.floats("values")?;
            if numel(&dims) != Some(values.len() as u64) {
                return Err(ErrorKind::Program(format!(
                    "operator `{}`: {} values for shape {dims:?}",
                    op.kind,
                    values.len()
                )));
            }
            Some(Const::from_floats(dtype, dims, values))
        }
        "shape" | "shape64" => {
            let dims = e.dims(op.input(0))?;
            let dtype = if op.kind == "shape" {
                DType::I32
            } else {
                DType::I64
            };
            if dims.iter().all(|&d| d >= 0) {
                Some(Const::ints_of(dtype, vec![dims.len() as i64], dims))
            } else {
                None
            }
        }
        "full_like" | "zeros_like" | "ones_like" => {
            let dims = e.dims(op.input(0))?;
            if dims.iter().any(|&d| d < 0) {
                None
            } else {
                let value = match op.kind.as_str() {
                    "zeros_like" => Some(0.0),
                    "ones_like" => Some(1.0),
                    _ => e.constant(op.input(1)).map(|c| c.floats()[0]),
                };
                match value {
                    Some(v) => {
                        let n = checked_numel(op, &dims)?;
                        let dtype = op.dtype("dtype").unwrap_or(e.dtype(op.input(0))?);
                        Some(Const::from_floats(dtype, dims, vec![v; n]))
                    }
                    None => None,
                }
            }
        }
        _ => {
            // Everything below needs every tensor operand known.
            let all_known = op.inputs.iter().all(|&id| {
                id == 0
                    || e.constant(id).is_some()
                    || e.lists
                        .get(&id)
                        .is_some_and(|l| l.iter().all(|v| e.constant(*v).is_some()))
            });
            if !all_known || op.inputs.is_empty() {
                return Ok(false);
            }
            fold_known(e, op)?
        }
    };
    match result {
        Some(c) => {
            e.set_const(op.output(0), c);
            Ok(true)
        }
        None => Ok(false),
    }
}

fn checked_numel(op: &Op, dims: &[i64]) -> Result<usize, ErrorKind> {
    match numel(dims) {
        Some(n) if n <= MAX_ELEMENTS => Ok(n as usize),
        _ => Err(unsupported(
            &op.kind,
            format_args!("a constant of shape {dims:?} is too large to fold"),
        )),
    }
}

fn get(e: &Emitter<'_>, op: &Op, i: usize) -> Result<Const, ErrorKind> {
    e.constant(op.input(i)).cloned().ok_or_else(|| {
        ErrorKind::Program(format!(
            "operator `{}`: operand {i} is not a constant",
            op.kind
        ))
    })
}

fn fold_known(e: &mut Emitter<'_>, op: &Op) -> Result<Option<Const>, ErrorKind> {
    Ok(Some(match op.kind.as_str() {
        "assign" => get(e, op, 0)?,
        "cast" => {
            let c = get(e, op, 0)?;
            let dtype = op.dtype("dtype")?;
            let v = c.floats();
            let v = if dtype.is_float() {
                v
            } else if dtype == DType::Bool {
                v.into_iter()
                    .map(|x| f64::from(u8::from(x != 0.0)))
                    .collect()
            } else {
                v.into_iter().map(f64::trunc).collect()
            };
            Const::from_floats(dtype, c.dims, v)
        }
        "scale" | "scale_" => {
            let c = get(e, op, 0)?;
            let s = e.const_scalar(op, 1).or_else(|_| op.float("scale"))?;
            let b = op.float("bias").unwrap_or(0.0);
            let after = op.bool_or("bias_after_scale", true)?;
            let v = c
                .floats()
                .into_iter()
                .map(|x| if after { x * s + b } else { (x + b) * s })
                .collect();
            c.with_values(c.dims.clone(), v)
        }
        "add" | "subtract" | "multiply" | "divide" | "floor_divide" | "maximum" | "minimum"
        | "remainder" | "equal" | "not_equal" | "less_than" | "less_equal" | "greater_than"
        | "greater_equal" | "elementwise_pow" => {
            let (a, b) = (get(e, op, 0)?, get(e, op, 1)?);
            let is_int = !a.dtype.is_float();
            let f: fn(f64, f64, bool) -> f64 = match op.kind.as_str() {
                "add" => |x, y, _| x + y,
                "subtract" => |x, y, _| x - y,
                "multiply" => |x, y, _| x * y,
                "divide" => |x, y, int| if int { (x / y).trunc() } else { x / y },
                "floor_divide" => |x, y, _| (x / y).floor(),
                "remainder" => |x, y, _| x - (x / y).floor() * y,
                "maximum" => |x, y, _| x.max(y),
                "minimum" => |x, y, _| x.min(y),
                "elementwise_pow" => |x, y, _| x.powf(y),
                "equal" => |x, y, _| f64::from(u8::from(x == y)),
                "not_equal" => |x, y, _| f64::from(u8::from(x != y)),
                "less_than" => |x, y, _| f64::from(u8::from(x < y)),
                "less_equal" => |x, y, _| f64::from(u8::from(x <= y)),
                "greater_than" => |x, y, _| f64::from(u8::from(x > y)),
                _ => |x, y, _| f64::from(u8::from(x >= y)),
            };
            let dtype = if matches!(
                op.kind.as_str(),
                "equal"
                    | "not_equal"
                    | "less_than"
                    | "less_equal"
                    | "greater_than"
                    | "greater_equal"
            ) {
                DType::Bool
            } else {
                a.dtype
            };
            let (dims, v) = broadcast(op, &[&a, &b], |x| f(x[0], x[1], is_int))?;
            Const::from_floats(dtype, dims, v)
        }
        "where" => {
            let (c, x, y) = (get(e, op, 0)?, get(e, op, 1)?, get(e, op, 2)?);
            let dtype = x.dtype;
            let (dims, v) =
                broadcast(op, &[&c, &x, &y], |v| if v[0] != 0.0 { v[1] } else { v[2] })?;
            Const::from_floats(dtype, dims, v)
        }
        "reshape" | "reshape_" => {
            let c = get(e, op, 0)?;
            let shape = e.const_ints(op, 1)?;
            let dims = reshape_dims(op, &c.dims, &shape)?;
            Const { dims, ..c }
        }
        "flatten" | "flatten_" => {
            let c = get(e, op, 0)?;
            let rank = c.dims.len();
            if rank == 0 {
                Const { dims: vec![1], ..c }
            } else {
                let start = norm_axis(op, op.int("start_axis")?, rank)? as usize;
                let stop = norm_axis(op, op.int("stop_axis")?, rank)? as usize;
                let mut dims = c.dims[..start].to_vec();
                dims.push(c.dims[start..=stop].iter().product());
                dims.extend(&c.dims[stop + 1..]);
                Const { dims, ..c }
            }
        }
        "unsqueeze" | "unsqueeze_" => {
            let c = get(e, op, 0)?;
            let axes = e.const_ints(op, 1)?;
            let mut dims = c.dims.clone();
            for a in axes {
                let a = if a < 0 { a + dims.len() as i64 + 1 } else { a };
                if a < 0 || a as usize > dims.len() {
                    return Err(ErrorKind::Program(format!(
                        "operator `{}`: bad axis",
                        op.kind
                    )));
                }
                dims.insert(a as usize, 1);
            }
            Const { dims, ..c }
        }
        "squeeze" | "squeeze_" => {
            let c = get(e, op, 0)?;
            let axes = e.const_ints(op, 1)?;
            let rank = c.dims.len();
            let axes: Vec<usize> = axes
                .iter()
                .map(|&a| norm_axis(op, a, rank).map(|a| a as usize))
                .collect::<Result<_, _>>()?;
            let dims = c
                .dims
                .iter()
                .enumerate()
                .filter(|(i, &d)| !(d == 1 && (axes.is_empty() || axes.contains(i))))
                .map(|(_, &d)| d)
                .collect();
            Const { dims, ..c }
        }
        "transpose" => {
            let c = get(e, op, 0)?;
            let perm = op.ints("perm")?;
            transpose(op, &c, &perm)?
        }
        "stack" => {
            let consts = list_consts(e, op)?;
            let Some(first) = consts.first() else {
                return Ok(None);
            };
            let axis = op.int("axis").unwrap_or(0);
            let rank = first.dims.len() + 1;
            let axis = if axis < 0 { axis + rank as i64 } else { axis } as usize;
            let unsqueezed: Vec<Const> = consts
                .iter()
                .map(|c| {
                    let mut dims = c.dims.clone();
                    dims.insert(axis.min(dims.len()), 1);
                    Const { dims, ..c.clone() }
                })
                .collect();
            concat(op, &unsqueezed, axis)?
        }
        "concat" => {
            let consts = list_consts(e, op)?;
            let Some(first) = consts.first() else {
                return Ok(None);
            };
            let axis = e.const_scalar(op, 1)? as i64;
            let axis = norm_axis(op, axis, first.dims.len())? as usize;
            concat(op, &consts, axis)?
        }
        "slice" => {
            let c = get(e, op, 0)?;
            let axes = op.ints("axes")?;
            let starts = e.const_ints(op, 1)?;
            let ends = e.const_ints(op, 2)?;
            let steps = vec![1; axes.len()];
            let mut out = slice(op, &c, &axes, &starts, &ends, &steps)?;
            let decrease = op.ints("decrease_axis").unwrap_or_default();
            if !decrease.is_empty() {
                let dims: Vec<i64> = out
                    .dims
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !decrease.contains(&(*i as i64)))
                    .map(|(_, &d)| d)
                    .collect();
                out.dims = dims;
            }
            out
        }
        "strided_slice" => {
            let c = get(e, op, 0)?;
            let axes = op.ints("axes")?;
            let starts = e.const_ints(op, 1)?;
            let ends = e.const_ints(op, 2)?;
            let steps = e.const_ints(op, 3)?;
            slice(op, &c, &axes, &starts, &ends, &steps)?
        }
        "set_value" | "set_value_" | "set_value_with_tensor" | "set_value_with_tensor_" => {
            return set_value(e, op).map(Some);
        }
        _ => return Ok(None),
    }))
}

/// The constants a list operand (operand 0) holds.
fn list_consts(e: &Emitter<'_>, op: &Op) -> Result<Vec<Const>, ErrorKind> {
    e.list(op, 0)?
        .iter()
        .map(|v| {
            e.constant(*v).cloned().ok_or_else(|| {
                ErrorKind::Program(format!(
                    "operator `{}`: a listed value is not known",
                    op.kind
                ))
            })
        })
        .collect()
}

/// Numpy broadcasting of `xs`, applying `f` to each tuple of elements.
fn broadcast(
    op: &Op,
    xs: &[&Const],
    f: impl Fn(&[f64]) -> f64,
) -> Result<(Vec<i64>, Vec<f64>), ErrorKind> {
    let rank = xs.iter().map(|c| c.dims.len()).max().unwrap_or(0);
    let mut dims = vec![1i64; rank];
    for c in xs {
        let off = rank - c.dims.len();
        for (i, &d) in c.dims.iter().enumerate() {
            let o = &mut dims[off + i];
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(ErrorKind::Program(format!(
                    "operator `{}`: shapes do not broadcast",
                    op.kind
                )));
            }
        }
    }
    let n = checked_numel(op, &dims)?;
    let values: Vec<Vec<f64>> = xs.iter().map(|c| c.floats()).collect();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0i64; rank];
    let mut args = vec![0.0; xs.len()];
    for _ in 0..n {
        for (k, c) in xs.iter().enumerate() {
            let off = rank - c.dims.len();
            let mut flat = 0i64;
            for (i, &d) in c.dims.iter().enumerate() {
                flat = flat * d + if d == 1 { 0 } else { idx[off + i] };
            }
            args[k] = values[k][flat as usize];
        }
        out.push(f(&args));
        for i in (0..rank).rev() {
            idx[i] += 1;
            if idx[i] < dims[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    Ok((dims, out))
}

/// Paddle's reshape rule: 0 copies the input dim, one -1 is inferred.
pub(crate) fn reshape_dims(op: &Op, input: &[i64], shape: &[i64]) -> Result<Vec<i64>, ErrorKind> {
    let bad = || {
        ErrorKind::Program(format!(
            "operator `{}`: cannot reshape {input:?} to {shape:?}",
            op.kind
        ))
    };
    let total = i64::try_from(numel(input).ok_or_else(bad)?).map_err(|_| bad())?;
    let mut dims: Vec<i64> = shape
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if s == 0 {
                input.get(i).copied().unwrap_or(0)
            } else {
                s
            }
        })
        .collect();
    let known: i64 = dims.iter().filter(|&&d| d != -1).product();
    if let Some(p) = dims.iter().position(|&d| d == -1) {
        if known <= 0 || total % known != 0 {
            return Err(ErrorKind::Program(format!(
                "operator `{}`: bad reshape",
                op.kind
            )));
        }
        dims[p] = total / known;
    }
    if dims.iter().product::<i64>() != total {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: cannot reshape {input:?} to {shape:?}",
            op.kind
        )));
    }
    Ok(dims)
}

fn strides(dims: &[i64]) -> Vec<i64> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

fn transpose(op: &Op, c: &Const, perm: &[i64]) -> Result<Const, ErrorKind> {
    let rank = c.dims.len();
    if perm.len() != rank {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: bad perm",
            op.kind
        )));
    }
    let perm: Vec<usize> = perm
        .iter()
        .map(|&p| norm_axis(op, p, rank).map(|p| p as usize))
        .collect::<Result<_, _>>()?;
    let dims: Vec<i64> = perm.iter().map(|&p| c.dims[p]).collect();
    let src = strides(&c.dims);
    let v = c.floats();
    let mut out = Vec::with_capacity(v.len());
    let mut idx = vec![0i64; rank];
    for _ in 0..v.len() {
        let flat: i64 = (0..rank).map(|i| idx[i] * src[perm[i]]).sum();
        out.push(v[flat as usize]);
        for i in (0..rank).rev() {
            idx[i] += 1;
            if idx[i] < dims[i] {
                break;
            }
            idx[i] = 0;
        }
    }
    Ok(c.with_values(dims, out))
}

fn concat(op: &Op, items: &[Const], axis: usize) -> Result<Const, ErrorKind> {
    let first = &items[0];
    let mut dims = first.dims.clone();
    if axis >= dims.len() {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: bad axis",
            op.kind
        )));
    }
    dims[axis] = 0;
    for c in items {
        if c.dims.len() != first.dims.len()
            || c.dims
                .iter()
                .enumerate()
                .any(|(i, &d)| i != axis && d != first.dims[i])
        {
            return Err(ErrorKind::Program(format!(
                "operator `{}`: shapes differ",
                op.kind
            )));
        }
        dims[axis] += c.dims[axis];
    }
    let outer: i64 = dims[..axis].iter().product();
    let mut out = Vec::new();
    let values: Vec<Vec<f64>> = items.iter().map(Const::floats).collect();
    for o in 0..outer {
        for (c, v) in items.iter().zip(&values) {
            let chunk: i64 = c.dims[axis..].iter().product();
            out.extend_from_slice(&v[(o * chunk) as usize..((o + 1) * chunk) as usize]);
        }
    }
    Ok(first.with_values(dims, out))
}

/// Normalised `[start, end)` with `step` on a dim of size `n`, as Paddle and
/// numpy clamp them.
fn range(start: i64, end: i64, step: i64, n: i64) -> Vec<i64> {
    let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let mut out = Vec::new();
    if step > 0 {
        let (s, e) = (clamp(norm(start), 0, n), clamp(norm(end), 0, n));
        let mut i = s;
        while i < e {
            out.push(i);
            i = i.saturating_add(step);
        }
    } else if step < 0 {
        let (s, e) = (clamp(norm(start), -1, n - 1), clamp(norm(end), -1, n - 1));
        let mut i = s;
        while i > e {
            out.push(i);
            i = i.saturating_add(step);
        }
    }
    out
}

/// The indices a `[starts:ends:steps]` slice over `axes` picks on each
/// dim of a tensor of `dims` (every index on the other dims).
fn region(
    op: &Op,
    dims: &[i64],
    axes: &[i64],
    starts: &[i64],
    ends: &[i64],
    steps: &[i64],
) -> Result<Vec<Vec<i64>>, ErrorKind> {
    let mut picks: Vec<Vec<i64>> = dims.iter().map(|&d| (0..d).collect()).collect();
    for (k, &a) in axes.iter().enumerate() {
        let a = norm_axis(op, a, dims.len())? as usize;
        let (Some(&s), Some(&e), Some(&st)) = (starts.get(k), ends.get(k), steps.get(k)) else {
            return Err(ErrorKind::Program(format!(
                "operator `{}`: bad slice",
                op.kind
            )));
        };
        picks[a] = range(s, e, st, dims[a]);
    }
    Ok(picks)
}

/// Calls `visit(k, flat)` for the `k`-th element of the region `picks`
/// (row-major), with `flat` its offset in a tensor of `dims`.
fn for_each_in(
    op: &Op,
    dims: &[i64],
    picks: &[Vec<i64>],
    mut visit: impl FnMut(usize, usize),
) -> Result<usize, ErrorKind> {
    let shape: Vec<i64> = picks.iter().map(|p| p.len() as i64).collect();
    let n = checked_numel(op, &shape)?;
    let src = strides(dims);
    let rank = dims.len();
    let mut idx = vec![0usize; rank];
    for k in 0..n {
        let flat: i64 = (0..rank).map(|i| picks[i][idx[i]] * src[i]).sum();
        visit(k, flat as usize);
        for i in (0..rank).rev() {
            idx[i] += 1;
            if idx[i] < picks[i].len() {
                break;
            }
            idx[i] = 0;
        }
    }
    Ok(n)
}

fn slice(
    op: &Op,
    c: &Const,
    axes: &[i64],
    starts: &[i64],
    ends: &[i64],
    steps: &[i64],
) -> Result<Const, ErrorKind> {
    let picks = region(op, &c.dims, axes, starts, ends, steps)?;
    let v = c.floats();
    let mut out = Vec::new();
    for_each_in(op, &c.dims, &picks, |_, flat| out.push(v[flat]))?;
    let dims = picks.iter().map(|p| p.len() as i64).collect();
    Ok(c.with_values(dims, out))
}

/// `x[starts:ends:steps] = values` on a constant `x`.
fn set_value(e: &Emitter<'_>, op: &Op) -> Result<Const, ErrorKind> {
    let x = get(e, op, 0)?;
    let with_tensor = op.kind.starts_with("set_value_with_tensor");
    let first = if with_tensor { 2 } else { 1 };
    let starts = e.const_ints(op, first)?;
    let ends = e.const_ints(op, first + 1)?;
    let steps = e.const_ints(op, first + 2)?;
    let axes = op.ints("axes")?;
    if !op.ints("none_axes").unwrap_or_default().is_empty() {
        return Err(unsupported(
            &op.kind,
            "attribute `none_axes` is not supported",
        ));
    }
    let picks = region(op, &x.dims, &axes, &starts, &ends, &steps)?;
    let n: usize = picks.iter().map(Vec::len).product();
    let values = if with_tensor {
        get(e, op, 1)?.floats()
    } else {
        op.floats("values")?
    };
    if values.is_empty() || (values.len() != 1 && values.len() != n) {
        return Err(unsupported(
            &op.kind,
            format_args!("{} values for a region of {n} elements", values.len()),
        ));
    }
    let mut out = x.floats();
    for_each_in(op, &x.dims, &picks, |k, flat| {
        out[flat] = values[if values.len() == 1 { 0 } else { k }];
    })?;
    Ok(x.with_values(x.dims.clone(), out))
}
