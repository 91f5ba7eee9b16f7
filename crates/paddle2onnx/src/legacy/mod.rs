//! Reads legacy Paddle programs (`inference.pdmodel`, a `ProgramDesc`
//! protobuf, Paddle 2.x) into the same [`Program`] the PIR reader produces,
//! in PIR's vocabulary, so that one emitter serves both.
//!
//! What the translation does:
//!
//! * Every variable name becomes a value id (fresh ids from 1). An operator
//!   that writes a name that already has a value gives it a new id and the
//!   name is remapped, so in-place operators read the old value and later
//!   readers the new one. Only an operator's main results get ids; side
//!   results (`XShape`, `MeanOut`, `SavedMean`, `Mask`, ...) are dropped, so
//!   `batch_norm`'s `MeanOut`, which names the mean parameter itself, leaves
//!   that name on the parameter.
//! * Types come from block 0's `VarDesc`s (dense tensors: element type and
//!   dims, -1 dynamic).
//! * The parameters are the persistable dense tensors of block 0 (not the
//!   `feed`/`fetch` variables), **sorted byte-wise by name**: the order
//!   `inference.pdiparams` holds them in (Paddle's `save_inference_model`
//!   and the inference predictor's `LoadParameters` both sort the names; the
//!   real `ch_ppocr_mobile_v2.0_cls` file confirms it, declaration order
//!   does not match it).
//! * Operators take their PIR names and operand order (`elementwise_add` →
//!   `add`, `matmul_v2` → `matmul`, `hard_swish` → `hardswish`, ...).
//!   Attributes that PIR passes as operands (kernel sizes, shapes, axes,
//!   scales, dropout rates) become synthesized `full_int_array` / `full`
//!   operators feeding them, and variable lists (`concat`'s inputs) a
//!   `builtin.combine`. Legacy element-wise `axis` broadcasting is made
//!   numpy broadcasting with an `unsqueeze`.
//!
//! Reading is bounded: before `prost` decodes anything, a walk over the wire
//! format counts the messages and elements the file would expand to and
//! refuses files past [`MAX_MESSAGES`] / [`MAX_ELEMENTS`]; a truncated or
//! hostile file is an [`ErrorKind::Program`], never a panic.

pub mod proto;

use std::collections::HashMap;

use prost::Message;

use crate::error::{unsupported, ErrorKind};
use crate::program::{AttrValue, DType, Op, Parameter, Program, SourceFormat, ValueId, ValueType};

use proto::{attr_type, scalar_type, var_type};

/// The most protobuf messages (blocks, variables, operators, slots,
/// attributes, ...) a program may hold. A large real program has a few
/// hundred thousand.
pub const MAX_MESSAGES: usize = 1 << 20;
/// The most fields and repeated elements a program may hold.
pub const MAX_ELEMENTS: usize = 1 << 23;
/// The most operators block 0 may hold.
pub const MAX_OPS: usize = 1 << 18;
/// The most variables block 0 may declare.
pub const MAX_VARS: usize = 1 << 19;

fn bad(message: impl Into<String>) -> ErrorKind {
    ErrorKind::Program(message.into())
}

/// Parses a legacy ProgramDesc into a [`Program`] in PIR's vocabulary.
pub fn read_legacy(bytes: &[u8]) -> Result<Program, ErrorKind> {
    let mut counts = Census::default();
    census(bytes, Kind::Program, &mut counts)
        .map_err(|e| bad(format!("not a Paddle ProgramDesc: {e}")))?;
    let desc = proto::ProgramDesc::decode(bytes)
        .map_err(|e| bad(format!("not a Paddle ProgramDesc: {e}")))?;
    let block = desc
        .blocks
        .iter()
        .find(|b| b.idx == 0)
        .ok_or_else(|| bad("not a Paddle ProgramDesc: no block 0"))?;
    if block.ops.len() > MAX_OPS || block.vars.len() > MAX_VARS {
        return Err(bad(format!(
            "block 0 has {} operators and {} variables, more than any inference program",
            block.ops.len(),
            block.vars.len()
        )));
    }
    if block.ops.is_empty() {
        return Err(bad(
            "not a Paddle inference program: block 0 has no operators",
        ));
    }
    let mut reader = Reader::new(block)?;
    for (index, op) in block.ops.iter().enumerate() {
        let op = LegacyOp::new(op);
        reader.translate(&op).map_err(|e| match e {
            ErrorKind::Program(m) => bad(format!("operator #{index} `{}`: {m}", op.kind())),
            other => other,
        })?;
    }
    Ok(reader.program)
}

// ---- bounded reading ---------------------------------------------------

/// The messages [`census`] descends into (those `proto` declares).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Program,
    Block,
    Var,
    VarType,
    DenseTensor,
    Tensor,
    Op,
    OpVar,
    Attr,
    Leaf,
}

#[derive(Debug, Default)]
struct Census {
    messages: usize,
    elements: usize,
}

/// The message kind of field `field` of a `kind` message, if it is one.
fn child(kind: Kind, field: u64) -> Option<Kind> {
    Some(match (kind, field) {
        (Kind::Program, 1) => Kind::Block,
        (Kind::Program, 4) => Kind::Leaf,
        (Kind::Block, 3) => Kind::Var,
        (Kind::Block, 4) => Kind::Op,
        (Kind::Var, 2) => Kind::VarType,
        (Kind::VarType, 3) => Kind::DenseTensor,
        (Kind::DenseTensor, 1) => Kind::Tensor,
        (Kind::Op, 1 | 2) => Kind::OpVar,
        (Kind::Op, 4) => Kind::Attr,
        (Kind::Attr, 20 | 21) => Kind::Leaf,
        _ => return None,
    })
}

/// Whether field `field` of a `kind` message is a repeated number that may
/// come packed.
fn packable(kind: Kind, field: u64) -> bool {
    matches!(
        (kind, field),
        (Kind::Tensor, 2) | (Kind::Attr, 6 | 7 | 11 | 15 | 16)
    )
}

fn varint(data: &[u8], pos: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *data.get(*pos).ok_or("truncated")?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("bad varint".into())
}

fn skip(data: &[u8], pos: &mut usize, n: u64) -> Result<usize, String> {
    let start = *pos;
    let end = usize::try_from(n)
        .ok()
        .and_then(|n| start.checked_add(n))
        .filter(|&e| e <= data.len())
        .ok_or("truncated")?;
    *pos = end;
    Ok(start)
}

/// Walks `data`, a `kind` message, counting what decoding it would allocate.
fn census(data: &[u8], kind: Kind, c: &mut Census) -> Result<(), String> {
    let mut pos = 0;
    while pos < data.len() {
        let key = varint(data, &mut pos)?;
        let field = key >> 3;
        c.elements += 1;
        match key & 7 {
            0 => {
                varint(data, &mut pos)?;
            }
            1 => {
                skip(data, &mut pos, 8)?;
            }
            5 => {
                skip(data, &mut pos, 4)?;
            }
            2 => {
                let len = varint(data, &mut pos)?;
                let start = skip(data, &mut pos, len)?;
                let body = &data[start..pos];
                if let Some(k) = child(kind, field) {
                    c.messages += 1;
                    if c.messages > MAX_MESSAGES {
                        return Err(format!("more than {MAX_MESSAGES} messages"));
                    }
                    if !matches!(k, Kind::Leaf) {
                        census(body, k, c)?;
                    }
                } else if packable(kind, field) {
                    c.elements += body.iter().filter(|&&b| b < 0x80).count();
                }
            }
            w => return Err(format!("wire type {w} in field {field}")),
        }
        if c.elements > MAX_ELEMENTS {
            return Err(format!("more than {MAX_ELEMENTS} fields"));
        }
    }
    Ok(())
}

// ---- attributes ----------------------------------------------------------

fn int_array<T: Copy + Into<i64>>(v: &[T]) -> AttrValue {
    AttrValue::Array(v.iter().map(|&i| AttrValue::Int(i.into())).collect())
}

fn float_array<T: Copy + Into<f64>>(v: &[T]) -> AttrValue {
    AttrValue::Array(v.iter().map(|&f| AttrValue::Float(f.into())).collect())
}

fn scalar_value(s: &proto::Scalar) -> AttrValue {
    match s.r#type {
        scalar_type::BOOLEAN => AttrValue::Bool(s.b.unwrap_or(false)),
        scalar_type::LONG => AttrValue::Int(s.i.unwrap_or(0)),
        scalar_type::FLOAT64 => AttrValue::Float(s.r.unwrap_or(0.0)),
        _ => AttrValue::Other,
    }
}

/// An attribute's value: the field its declared type names, or else
/// whichever field of the same kind is set (writers differ on `INT` vs
/// `LONG`, `FLOAT` vs `FLOAT64`).
fn attr_value(a: &proto::Attr) -> AttrValue {
    let int = a.i.map(i64::from).or(a.l);
    let float = a.f.map(f64::from).or(a.float64);
    let ints = |a: &proto::Attr| {
        if a.ints.is_empty() {
            int_array(&a.longs)
        } else {
            int_array(&a.ints)
        }
    };
    let floats = |a: &proto::Attr| {
        if a.floats.is_empty() {
            float_array(&a.float64s)
        } else {
            float_array(&a.floats)
        }
    };
    let strings = |v: &[String]| AttrValue::Array(v.iter().cloned().map(AttrValue::Str).collect());
    match a.r#type {
        attr_type::INT => AttrValue::Int(a.i.map(i64::from).or(a.l).unwrap_or(0)),
        attr_type::LONG => AttrValue::Int(a.l.or(a.i.map(i64::from)).unwrap_or(0)),
        attr_type::FLOAT => AttrValue::Float(float.unwrap_or(0.0)),
        attr_type::FLOAT64 => AttrValue::Float(a.float64.or(a.f.map(f64::from)).unwrap_or(0.0)),
        attr_type::STRING => AttrValue::Str(a.s.clone().unwrap_or_default()),
        attr_type::BOOLEAN => AttrValue::Bool(a.b.unwrap_or(false)),
        attr_type::INTS => ints(a),
        attr_type::LONGS => {
            if a.longs.is_empty() {
                int_array(&a.ints)
            } else {
                int_array(&a.longs)
            }
        }
        attr_type::FLOATS => floats(a),
        attr_type::FLOAT64S => {
            if a.float64s.is_empty() {
                float_array(&a.floats)
            } else {
                float_array(&a.float64s)
            }
        }
        attr_type::STRINGS => strings(&a.strings),
        attr_type::BOOLEANS => {
            AttrValue::Array(a.bools.iter().map(|&b| AttrValue::Bool(b)).collect())
        }
        attr_type::VAR => AttrValue::Str(a.var_name.clone().unwrap_or_default()),
        attr_type::VARS => strings(&a.vars_name),
        attr_type::SCALAR => a.scalar.as_ref().map_or(AttrValue::Other, scalar_value),
        attr_type::SCALARS => AttrValue::Array(a.scalars.iter().map(scalar_value).collect()),
        attr_type::BLOCK | attr_type::BLOCKS => AttrValue::Other,
        // An unknown type code: whatever is set.
        _ => {
            if let Some(i) = int {
                AttrValue::Int(i)
            } else if let Some(f) = float {
                AttrValue::Float(f)
            } else if let Some(s) = &a.s {
                AttrValue::Str(s.clone())
            } else if let Some(b) = a.b {
                AttrValue::Bool(b)
            } else if !a.ints.is_empty() || !a.longs.is_empty() {
                ints(a)
            } else if !a.floats.is_empty() || !a.float64s.is_empty() {
                floats(a)
            } else if !a.strings.is_empty() {
                strings(&a.strings)
            } else {
                AttrValue::Other
            }
        }
    }
}

/// Attributes every legacy operator carries that mean nothing here.
const NOISE: &[&str] = &[
    "op_callstack",
    "op_role",
    "op_role_var",
    "op_namescope",
    "op_device",
    "with_quant_attr",
];

// ---- one legacy operator -------------------------------------------------

/// A legacy operator with its attributes decoded (as an [`Op`], for the
/// typed accessors and their error messages).
struct LegacyOp<'a> {
    desc: &'a proto::OpDesc,
    attrs: Op,
}

impl<'a> LegacyOp<'a> {
    fn new(desc: &'a proto::OpDesc) -> Self {
        let attrs = desc
            .attrs
            .iter()
            .filter(|a| !NOISE.contains(&a.name.as_str()))
            .map(|a| (a.name.clone(), attr_value(a)))
            .collect();
        LegacyOp {
            desc,
            attrs: Op {
                kind: desc.r#type.clone(),
                inputs: Vec::new(),
                outputs: Vec::new(),
                attrs,
            },
        }
    }

    fn kind(&self) -> &str {
        &self.desc.r#type
    }

    /// The variables bound to input slot `slot` (none when absent).
    fn inputs(&self, slot: &str) -> &'a [String] {
        slot_args(&self.desc.inputs, slot)
    }

    /// The variables bound to output slot `slot`.
    fn outputs(&self, slot: &str) -> &'a [String] {
        slot_args(&self.desc.outputs, slot)
    }

    fn has(&self, slot: &str) -> bool {
        !self.inputs(slot).is_empty()
    }

    /// Copies the attributes in `names` that are present.
    fn copy(&self, names: &[&str]) -> Vec<(String, AttrValue)> {
        names
            .iter()
            .filter_map(|&n| self.attrs.attr(n).map(|v| (n.to_owned(), v.clone())))
            .collect()
    }

    /// Attribute `name` (or `default` when absent) under the name `to`.
    fn renamed(
        &self,
        name: &str,
        to: &str,
        default: Option<AttrValue>,
    ) -> Option<(String, AttrValue)> {
        self.attrs
            .attr(name)
            .cloned()
            .or(default)
            .map(|v| (to.to_owned(), v))
    }
}

fn slot_args<'a>(slots: &'a [proto::OpVar], slot: &str) -> &'a [String] {
    slots
        .iter()
        .find(|s| s.parameter == slot)
        .map_or(&[], |s| s.arguments.as_slice())
}

// ---- the translation -------------------------------------------------------

struct Reader<'a> {
    vars: HashMap<&'a str, &'a proto::VarDesc>,
    /// The current value of each variable name.
    values: HashMap<String, ValueId>,
    next: ValueId,
    program: Program,
}

/// The element type and dims of a dense-tensor variable; `None` for other
/// variables.
fn var_tensor(v: &proto::VarDesc) -> Result<Option<(DType, Vec<i64>)>, ErrorKind> {
    if v.r#type.r#type != var_type::DENSE_TENSOR {
        return Ok(None);
    }
    let t = &v
        .r#type
        .dense_tensor
        .as_ref()
        .ok_or_else(|| {
            bad(format!(
                "variable `{}` is a tensor without a description",
                v.name
            ))
        })?
        .tensor;
    let dtype = DType::from_proto(i64::from(t.data_type)).ok_or_else(|| {
        ErrorKind::Unsupported(format!(
            "variable `{}` has element type {}, which this converter does not know",
            v.name, t.data_type
        ))
    })?;
    Ok(Some((dtype, t.dims.clone())))
}

fn tensor(dtype: DType, dims: Vec<i64>) -> ValueType {
    ValueType::Tensor { dtype, dims }
}

fn ints_attr(values: &[i64]) -> AttrValue {
    int_array(values)
}

impl<'a> Reader<'a> {
    /// Declares block 0's variables and its parameters (sorted by name).
    fn new(block: &'a proto::BlockDesc) -> Result<Self, ErrorKind> {
        let mut vars = HashMap::with_capacity(block.vars.len());
        for v in &block.vars {
            vars.entry(v.name.as_str()).or_insert(v);
        }
        let mut reader = Reader {
            vars,
            values: HashMap::new(),
            next: 1,
            program: Program {
                ops: Vec::with_capacity(block.ops.len() * 2),
                types: HashMap::new(),
                params: Vec::new(),
                format: SourceFormat::Legacy,
            },
        };
        let mut params: Vec<&proto::VarDesc> = reader
            .vars
            .values()
            .copied()
            .filter(|v| v.persistable == Some(true))
            .filter(|v| {
                !matches!(
                    v.r#type.r#type,
                    var_type::FEED_MINIBATCH | var_type::FETCH_LIST | var_type::RAW
                )
            })
            .collect();
        // The order of inference.pdiparams: names sorted byte-wise.
        params.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        for v in params {
            let Some((dtype, dims)) = var_tensor(v)? else {
                return Err(ErrorKind::Unsupported(format!(
                    "persistable variable `{}` is of kind {}, not a dense tensor",
                    v.name, v.r#type.r#type
                )));
            };
            if dims.iter().any(|&d| d < 0) {
                return Err(bad(format!(
                    "parameter `{}` has dynamic dims {dims:?}",
                    v.name
                )));
            }
            let id = reader.fresh(tensor(dtype, dims.clone()));
            reader.values.insert(v.name.clone(), id);
            reader.program.params.push(Parameter {
                name: v.name.clone(),
                value: id,
                dtype,
                dims,
            });
        }
        Ok(reader)
    }

    fn fresh(&mut self, ty: ValueType) -> ValueId {
        let id = self.next;
        self.next += 1;
        self.program.types.insert(id, ty);
        id
    }

    fn ty(&self, id: ValueId) -> Result<(DType, Vec<i64>), ErrorKind> {
        match self.program.types.get(&id) {
            Some(ValueType::Tensor { dtype, dims }) => Ok((*dtype, dims.clone())),
            _ => Err(bad(format!("value %{id} is not a tensor"))),
        }
    }

    /// The current value of variable `name`.
    fn value(&self, name: &str) -> Result<ValueId, ErrorKind> {
        self.values.get(name).copied().ok_or_else(|| {
            bad(format!(
                "reads `{name}`, which no earlier operator produces (or only as a side result this converter drops)"
            ))
        })
    }

    /// The value of input slot `slot`, which must be bound.
    fn input(&self, op: &LegacyOp<'_>, slot: &str) -> Result<ValueId, ErrorKind> {
        match op.inputs(slot) {
            [name, ..] => self.value(name),
            [] => Err(bad(format!("no input `{slot}`"))),
        }
    }

    /// The value of input slot `slot`, 0 when unbound.
    fn opt_input(&self, op: &LegacyOp<'_>, slot: &str) -> Result<ValueId, ErrorKind> {
        match op.inputs(slot) {
            [name, ..] => self.value(name),
            [] => Ok(0),
        }
    }

    /// A new value for variable `name`, typed by its declaration.
    fn define(&mut self, name: &str) -> Result<ValueId, ErrorKind> {
        let v = self
            .vars
            .get(name)
            .ok_or_else(|| bad(format!("writes `{name}`, which block 0 does not declare")))?;
        let (dtype, dims) = var_tensor(v)?
            .ok_or_else(|| bad(format!("writes `{name}`, which is not a dense tensor")))?;
        let id = self.fresh(tensor(dtype, dims));
        self.values.insert(name.to_owned(), id);
        Ok(id)
    }

    /// A new value for output slot `slot`, which must be bound.
    fn output(&mut self, op: &LegacyOp<'_>, slot: &str) -> Result<ValueId, ErrorKind> {
        match op.outputs(slot) {
            [name, ..] => self.define(name),
            [] => Err(bad(format!("no output `{slot}`"))),
        }
    }

    fn emit(
        &mut self,
        kind: &str,
        inputs: Vec<ValueId>,
        outputs: Vec<ValueId>,
        attrs: Vec<(String, AttrValue)>,
    ) {
        self.program.ops.push(Op {
            kind: kind.to_owned(),
            inputs,
            outputs,
            attrs,
        });
    }

    /// A synthesized `full_int_array` (int64) holding `values`.
    fn full_int_array(&mut self, values: &[i64]) -> ValueId {
        let id = self.fresh(tensor(DType::I64, vec![values.len() as i64]));
        self.emit(
            "full_int_array",
            vec![],
            vec![id],
            vec![
                ("value".into(), ints_attr(values)),
                ("dtype".into(), AttrValue::DType(DType::I64)),
            ],
        );
        id
    }

    /// A synthesized `full` of `shape` filled with `value`.
    fn full(&mut self, shape: &[i64], value: f64, dtype: DType) -> ValueId {
        let id = self.fresh(tensor(dtype, shape.to_vec()));
        self.emit(
            "full",
            vec![],
            vec![id],
            vec![
                ("shape".into(), ints_attr(shape)),
                ("value".into(), AttrValue::Float(value)),
                ("dtype".into(), AttrValue::DType(dtype)),
            ],
        );
        id
    }

    /// A synthesized `builtin.combine` of `items`; returns the list value.
    fn combine(&mut self, items: Vec<ValueId>) -> ValueId {
        let types = items
            .iter()
            .map(|i| {
                self.program
                    .types
                    .get(i)
                    .cloned()
                    .unwrap_or(ValueType::Null)
            })
            .collect();
        let id = self.fresh(ValueType::List(types));
        self.emit("builtin.combine", items, vec![id], vec![]);
        id
    }

    /// The values bound to list slot `slot`, combined.
    fn list_input(&mut self, op: &LegacyOp<'_>, slot: &str) -> Result<ValueId, ErrorKind> {
        let items = op
            .inputs(slot)
            .iter()
            .map(|n| self.value(n))
            .collect::<Result<Vec<_>, _>>()?;
        if items.is_empty() {
            return Err(bad(format!("no input `{slot}`")));
        }
        Ok(self.combine(items))
    }

    /// An integer-list operand: the tensor in slot `tensor`, else the list
    /// in slot `list`, else attribute `attr` as a `full_int_array`.
    fn ints_operand(
        &mut self,
        op: &LegacyOp<'_>,
        tensor: &str,
        list: &str,
        attr: &str,
    ) -> Result<ValueId, ErrorKind> {
        if op.has(tensor) {
            return self.input(op, tensor);
        }
        if op.has(list) {
            return self.list_input(op, list);
        }
        let values = op.attrs.ints(attr)?;
        Ok(self.full_int_array(&values))
    }

    /// An `unsqueeze` of `x` at `axes`; returns the new value.
    fn unsqueeze(&mut self, x: ValueId, axes: &[i64]) -> Result<ValueId, ErrorKind> {
        let (dtype, mut dims) = self.ty(x)?;
        for &a in axes {
            let a = usize::try_from(a)
                .ok()
                .filter(|&a| a <= dims.len())
                .ok_or_else(|| bad(format!("cannot unsqueeze at {a}")))?;
            dims.insert(a, 1);
        }
        let axes_id = self.full_int_array(axes);
        let out = self.fresh(tensor(dtype, dims));
        self.emit("unsqueeze", vec![x, axes_id], vec![out], vec![]);
        Ok(out)
    }

    /// Legacy element-wise broadcasting: the lower-rank operand's dims line
    /// up with the other's from `axis` (numpy lines them up at the end), so
    /// the lower-rank operand gets trailing 1s.
    fn align(
        &mut self,
        op: &LegacyOp<'_>,
        x: ValueId,
        y: ValueId,
    ) -> Result<(ValueId, ValueId), ErrorKind> {
        let axis = match op.attrs.attr("axis") {
            Some(_) => op.attrs.int("axis")?,
            None => -1,
        };
        let xr = self.ty(x)?.1.len() as i64;
        let yr = self.ty(y)?.1.len() as i64;
        if axis == -1 || xr == yr {
            return Ok((x, y));
        }
        let (big, small) = if xr > yr { (xr, yr) } else { (yr, xr) };
        // Paddle: a negative axis counts as `big - small + axis + 1`.
        let start = if axis < 0 {
            big - small + axis + 1
        } else {
            axis
        };
        let trailing = big - start - small;
        if start < 0 || trailing < 0 {
            return Err(unsupported(
                op.kind(),
                format_args!("axis {axis} does not fit operands of rank {xr} and {yr}"),
            ));
        }
        if trailing == 0 {
            return Ok((x, y));
        }
        let axes: Vec<i64> = (small..small + trailing).collect();
        if xr > yr {
            Ok((x, self.unsqueeze(y, &axes)?))
        } else {
            Ok((self.unsqueeze(x, &axes)?, y))
        }
    }

    /// One legacy operator, as zero or more PIR operators.
    fn translate(&mut self, op: &LegacyOp<'_>) -> Result<(), ErrorKind> {
        let a = &op.attrs;
        let kind = op.kind();
        match kind {
            "feed" => {
                let name = op
                    .outputs("Out")
                    .first()
                    .ok_or_else(|| bad("no output `Out`"))?
                    .clone();
                let out = self.define(&name)?;
                let (dtype, dims) = self.ty(out)?;
                self.emit(
                    "data",
                    vec![],
                    vec![out],
                    vec![
                        ("name".into(), AttrValue::Str(name)),
                        ("shape".into(), ints_attr(&dims)),
                        ("dtype".into(), AttrValue::DType(dtype)),
                    ],
                );
            }
            "fetch" => {
                let name = op
                    .inputs("X")
                    .first()
                    .ok_or_else(|| bad("no input `X`"))?
                    .clone();
                let x = self.value(&name)?;
                let ty = self
                    .program
                    .types
                    .get(&x)
                    .cloned()
                    .unwrap_or(ValueType::Null);
                let out = self.fresh(ty);
                let col = a.int("col").unwrap_or(0);
                self.emit(
                    "fetch",
                    vec![x],
                    vec![out],
                    vec![
                        ("name".into(), AttrValue::Str(name)),
                        ("col".into(), AttrValue::Int(col)),
                    ],
                );
            }
            "conv2d" | "depthwise_conv2d" => {
                if op.has("Bias") || op.has("ResidualData") {
                    return Err(unsupported(
                        kind,
                        "fused Bias / ResidualData inputs are not supported",
                    ));
                }
                if a.str("fuse_activation").is_ok_and(|s| !s.is_empty())
                    || a.bool_or("fuse_relu", false)?
                    || a.bool_or("fuse_residual_connection", false)?
                {
                    return Err(unsupported(kind, "fused activations are not supported"));
                }
                let x = self.input(op, "Input")?;
                let w = self.input(op, "Filter")?;
                let out = self.output(op, "Output")?;
                let attrs = op.copy(&[
                    "strides",
                    "paddings",
                    "padding_algorithm",
                    "dilations",
                    "groups",
                    "data_format",
                ]);
                self.emit(kind, vec![x, w], vec![out], attrs);
            }
            "batch_norm" => {
                let inputs = vec![
                    self.input(op, "X")?,
                    self.input(op, "Mean")?,
                    self.input(op, "Variance")?,
                    self.opt_input(op, "Scale")?,
                    self.opt_input(op, "Bias")?,
                ];
                let out = self.output(op, "Y")?;
                let mut attrs = op.copy(&["is_test", "momentum", "epsilon"]);
                attrs.extend(op.renamed("data_layout", "data_format", None));
                attrs.extend(op.copy(&["use_global_stats", "trainable_statistics"]));
                self.emit("batch_norm", inputs, vec![out], attrs);
            }
            "layer_norm" => {
                let inputs = vec![
                    self.input(op, "X")?,
                    self.opt_input(op, "Scale")?,
                    self.opt_input(op, "Bias")?,
                ];
                let out = self.output(op, "Y")?;
                let attrs = op.copy(&["epsilon", "begin_norm_axis"]);
                self.emit("layer_norm", inputs, vec![out], attrs);
            }
            "pool2d" => {
                let x = self.input(op, "X")?;
                let ksize = a.ints("ksize")?;
                let k = self.full_int_array(&ksize);
                let out = self.output(op, "Out")?;
                let attrs = op.copy(&[
                    "strides",
                    "paddings",
                    "ceil_mode",
                    "exclusive",
                    "data_format",
                    "pooling_type",
                    "global_pooling",
                    "adaptive",
                    "padding_algorithm",
                ]);
                self.emit("pool2d", vec![x, k], vec![out], attrs);
            }
            "elementwise_add"
            | "elementwise_sub"
            | "elementwise_mul"
            | "elementwise_div"
            | "elementwise_max"
            | "elementwise_min"
            | "elementwise_pow"
            | "elementwise_floordiv"
            | "elementwise_mod" => {
                let pir = match kind {
                    "elementwise_add" => "add",
                    "elementwise_sub" => "subtract",
                    "elementwise_mul" => "multiply",
                    "elementwise_div" => "divide",
                    "elementwise_max" => "maximum",
                    "elementwise_min" => "minimum",
                    "elementwise_floordiv" => "floor_divide",
                    "elementwise_mod" => "remainder",
                    _ => "elementwise_pow",
                };
                if a.str("fuse_activation").is_ok_and(|s| !s.is_empty()) {
                    return Err(unsupported(kind, "fused activations are not supported"));
                }
                let x = self.input(op, "X")?;
                let y = self.input(op, "Y")?;
                let (x, y) = self.align(op, x, y)?;
                let out = self.output(op, "Out")?;
                self.emit(pir, vec![x, y], vec![out], vec![]);
            }
            "matmul_v2" => {
                let x = self.input(op, "X")?;
                let y = self.input(op, "Y")?;
                let out = self.output(op, "Out")?;
                let attrs = [
                    op.renamed("trans_x", "transpose_x", Some(AttrValue::Bool(false))),
                    op.renamed("trans_y", "transpose_y", Some(AttrValue::Bool(false))),
                ];
                self.emit(
                    "matmul",
                    vec![x, y],
                    vec![out],
                    attrs.into_iter().flatten().collect(),
                );
            }
            "matmul" => {
                let x = self.input(op, "X")?;
                let y = self.input(op, "Y")?;
                let alpha = match a.attr("alpha") {
                    Some(_) => a.float("alpha")?,
                    None => 1.0,
                };
                let out = self.output(op, "Out")?;
                let attrs = [
                    op.renamed("transpose_X", "transpose_x", Some(AttrValue::Bool(false))),
                    op.renamed("transpose_Y", "transpose_y", Some(AttrValue::Bool(false))),
                ];
                let attrs = attrs.into_iter().flatten().collect();
                if alpha == 1.0 {
                    self.emit("matmul", vec![x, y], vec![out], attrs);
                } else {
                    let ty = self
                        .program
                        .types
                        .get(&out)
                        .cloned()
                        .unwrap_or(ValueType::Null);
                    let product = self.fresh(ty);
                    self.emit("matmul", vec![x, y], vec![product], attrs);
                    let s = self.full(&[1], alpha, DType::F32);
                    self.emit(
                        "scale",
                        vec![product, s],
                        vec![out],
                        vec![
                            ("bias".into(), AttrValue::Float(0.0)),
                            ("bias_after_scale".into(), AttrValue::Bool(true)),
                        ],
                    );
                }
            }
            "mul" => self.mul(op)?,
            "relu" | "sigmoid" | "tanh" | "exp" | "sqrt" | "rsqrt" | "abs" | "log" | "floor"
            | "ceil" | "erf" | "square" | "reciprocal" | "sin" | "cos" | "silu" | "relu6"
            | "swish" | "gelu" | "elu" | "softplus" | "mish" | "hard_swish" | "hard_sigmoid"
            | "leaky_relu" => {
                let x = self.input(op, "X")?;
                let out = self.output(op, "Out")?;
                let f = |v: f64| Some(AttrValue::Float(v));
                let (pir, attrs): (&str, Vec<(String, AttrValue)>) = match kind {
                    "relu6" => (
                        "relu6",
                        op.renamed("threshold", "threshold", f(6.0))
                            .into_iter()
                            .collect(),
                    ),
                    "swish" => ("swish", op.copy(&["beta"])),
                    "gelu" => ("gelu", op.copy(&["approximate"])),
                    "elu" => ("elu", op.copy(&["alpha"])),
                    "softplus" => ("softplus", op.copy(&["beta", "threshold"])),
                    "mish" => ("mish", op.copy(&["threshold"])),
                    "hard_swish" => (
                        "hardswish",
                        [
                            op.renamed("threshold", "threshold", f(6.0)),
                            op.renamed("scale", "scale", f(6.0)),
                            op.renamed("offset", "offset", f(3.0)),
                        ]
                        .into_iter()
                        .flatten()
                        .collect(),
                    ),
                    "hard_sigmoid" => (
                        "hardsigmoid",
                        [
                            op.renamed("slope", "slope", f(0.2)),
                            op.renamed("offset", "offset", f(0.5)),
                        ]
                        .into_iter()
                        .flatten()
                        .collect(),
                    ),
                    "leaky_relu" => (
                        "leaky_relu",
                        op.renamed("alpha", "negative_slope", f(0.02))
                            .into_iter()
                            .collect(),
                    ),
                    other => (other, vec![]),
                };
                self.emit(pir, vec![x], vec![out], attrs);
            }
            "softmax" => {
                let x = self.input(op, "X")?;
                let out = self.output(op, "Out")?;
                let attrs = op
                    .renamed("axis", "axis", Some(AttrValue::Int(-1)))
                    .into_iter()
                    .collect();
                self.emit("softmax", vec![x], vec![out], attrs);
            }
            "dropout" => {
                let x = self.input(op, "X")?;
                let p = match a.attr("dropout_prob") {
                    Some(_) => a.float("dropout_prob")?,
                    None => 0.5,
                };
                let mode = match a.attr("dropout_implementation") {
                    Some(_) => a.str("dropout_implementation")?.to_owned(),
                    None => "downgrade_in_infer".to_owned(),
                };
                let p = self.full(&[1], p, DType::F32);
                let out = self.output(op, "Out")?;
                let mut attrs = op.copy(&["is_test"]);
                attrs.push(("mode".into(), AttrValue::Str(mode)));
                self.emit("dropout", vec![x, 0, p], vec![out], attrs);
            }
            "scale" => {
                let x = self.input(op, "X")?;
                let s = if op.has("ScaleTensor") {
                    self.input(op, "ScaleTensor")?
                } else {
                    let v = match a.attr("scale") {
                        Some(_) => a.float("scale")?,
                        None => 1.0,
                    };
                    self.full(&[1], v, DType::F32)
                };
                let out = self.output(op, "Out")?;
                let attrs = [
                    op.renamed("bias", "bias", Some(AttrValue::Float(0.0))),
                    op.renamed(
                        "bias_after_scale",
                        "bias_after_scale",
                        Some(AttrValue::Bool(true)),
                    ),
                ];
                self.emit(
                    "scale",
                    vec![x, s],
                    vec![out],
                    attrs.into_iter().flatten().collect(),
                );
            }
            "reshape2" | "reshape" => {
                let x = self.input(op, "X")?;
                // Paddle's priority: ShapeTensor, then Shape, then the attribute.
                let shape = if op.has("ShapeTensor") {
                    self.list_input(op, "ShapeTensor")?
                } else {
                    self.ints_operand(op, "Shape", "", "shape")?
                };
                let out = self.output(op, "Out")?;
                self.emit("reshape", vec![x, shape], vec![out], vec![]);
            }
            "flatten_contiguous_range" => {
                let x = self.input(op, "X")?;
                let out = self.output(op, "Out")?;
                let attrs = op.copy(&["start_axis", "stop_axis"]);
                self.emit("flatten", vec![x], vec![out], attrs);
            }
            "flatten2" | "flatten" => {
                // To 2-D: [prod(dims[..axis]), prod(dims[axis..])].
                let x = self.input(op, "X")?;
                let dims = self.ty(x)?.1;
                let axis = match a.attr("axis") {
                    Some(_) => a.int("axis")?,
                    None => 1,
                };
                let axis = usize::try_from(axis)
                    .ok()
                    .filter(|&ax| ax <= dims.len())
                    .ok_or_else(|| {
                        bad(format!(
                            "axis {axis} is out of range for rank {}",
                            dims.len()
                        ))
                    })?;
                let product =
                    |d: &[i64]| d.iter().all(|&v| v >= 0).then(|| d.iter().product::<i64>());
                let shape = match (product(&dims[..axis]), product(&dims[axis..])) {
                    (_, Some(inner)) => vec![-1, inner],
                    (Some(outer), None) => vec![outer, -1],
                    (None, None) => {
                        return Err(unsupported(
                            kind,
                            "dims on both sides of `axis` are dynamic",
                        ))
                    }
                };
                let shape = if axis == 0 { vec![1, -1] } else { shape };
                let s = self.full_int_array(&shape);
                let out = self.output(op, "Out")?;
                self.emit("reshape", vec![x, s], vec![out], vec![]);
            }
            "transpose2" | "transpose" => {
                let x = self.input(op, "X")?;
                let out = self.output(op, "Out")?;
                let attrs = op.renamed("axis", "perm", None).into_iter().collect();
                self.emit("transpose", vec![x], vec![out], attrs);
            }
            "concat" => {
                let list = self.list_input(op, "X")?;
                let axis = self.axis_operand(op)?;
                let out = self.output(op, "Out")?;
                self.emit("concat", vec![list, axis], vec![out], vec![]);
            }
            "split" => self.split(op)?,
            "squeeze2" | "squeeze" | "unsqueeze2" | "unsqueeze" => {
                let x = self.input(op, "X")?;
                let axes = self.ints_operand(op, "AxesTensor", "AxesTensorList", "axes")?;
                let out = self.output(op, "Out")?;
                let pir = kind.trim_end_matches('2');
                self.emit(pir, vec![x, axes], vec![out], vec![]);
            }
            "fill_constant" => {
                if op.has("ShapeTensor") || op.has("ShapeTensorList") || op.has("ValueTensor") {
                    return Err(unsupported(
                        kind,
                        "a shape or value given as a tensor is not supported",
                    ));
                }
                let dtype = DType::from_proto(a.int("dtype")?).ok_or_else(|| {
                    unsupported(
                        kind,
                        format_args!("dtype code {:?} is not supported", a.attr("dtype")),
                    )
                })?;
                let from_str = a
                    .str("str_value")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .and_then(|s| s.trim().parse::<f64>().ok());
                let value = match from_str {
                    Some(v) => v,
                    None => a.float("value")?,
                };
                let shape = a.ints("shape")?;
                let out = self.output(op, "Out")?;
                self.emit(
                    "full",
                    vec![],
                    vec![out],
                    vec![
                        ("shape".into(), ints_attr(&shape)),
                        ("value".into(), AttrValue::Float(value)),
                        ("dtype".into(), AttrValue::DType(dtype)),
                    ],
                );
            }
            "shape" => {
                let x = self.input(op, "Input")?;
                let out = self.output(op, "Out")?;
                self.emit("shape", vec![x], vec![out], vec![]);
            }
            "slice" => {
                let x = self.input(op, "Input")?;
                let starts = self.ints_operand(op, "StartsTensor", "StartsTensorList", "starts")?;
                let ends = self.ints_operand(op, "EndsTensor", "EndsTensorList", "ends")?;
                let out = self.output(op, "Out")?;
                let attrs = op.copy(&["axes", "infer_flags", "decrease_axis"]);
                self.emit("slice", vec![x, starts, ends], vec![out], attrs);
            }
            "stack" => {
                let list = self.list_input(op, "X")?;
                let out = self.output(op, "Y")?;
                let attrs = op
                    .renamed("axis", "axis", Some(AttrValue::Int(0)))
                    .into_iter()
                    .collect();
                self.emit("stack", vec![list], vec![out], attrs);
            }
            "cast" => {
                let x = self.input(op, "X")?;
                let code = a.int("out_dtype")?;
                let dtype = DType::from_proto(code).ok_or_else(|| {
                    unsupported(kind, format_args!("out_dtype {code} is not supported"))
                })?;
                let out = self.output(op, "Out")?;
                self.emit(
                    "cast",
                    vec![x],
                    vec![out],
                    vec![("dtype".into(), AttrValue::DType(dtype))],
                );
            }
            "assign" => {
                let x = self.input(op, "X")?;
                let out = self.output(op, "Out")?;
                self.emit("assign", vec![x], vec![out], vec![]);
            }
            "clip" => {
                let x = self.input(op, "X")?;
                let bound =
                    |slot: &str, attr: &str, this: &mut Self| -> Result<ValueId, ErrorKind> {
                        if op.has(slot) {
                            return this.input(op, slot);
                        }
                        Ok(this.full(&[1], a.float(attr)?, DType::F32))
                    };
                let lo = bound("Min", "min", self)?;
                let hi = bound("Max", "max", self)?;
                let out = self.output(op, "Out")?;
                self.emit("clip", vec![x, lo, hi], vec![out], vec![]);
            }
            "pow" => {
                let x = self.input(op, "X")?;
                let y = if op.has("FactorTensor") {
                    self.input(op, "FactorTensor")?
                } else {
                    self.full(&[1], a.float("factor")?, DType::F32)
                };
                let out = self.output(op, "Out")?;
                self.emit("pow", vec![x, y], vec![out], vec![]);
            }
            "reduce_mean" | "reduce_sum" | "reduce_max" | "reduce_min" | "reduce_prod" => {
                let x = self.input(op, "X")?;
                let dims = match a.attr("dim") {
                    Some(_) => a.ints("dim")?,
                    None => Vec::new(),
                };
                let axes = self.full_int_array(&dims);
                let out = self.output(op, "Out")?;
                let mut attrs: Vec<_> = [
                    op.renamed("keep_dim", "keepdim", Some(AttrValue::Bool(false))),
                    op.renamed("reduce_all", "reduce_all", None),
                ]
                .into_iter()
                .flatten()
                .collect();
                if let Some(d) = a.int("out_dtype").ok().filter(|&c| c >= 0) {
                    let d = DType::from_proto(d).ok_or_else(|| {
                        unsupported(kind, format_args!("out_dtype {d} is not supported"))
                    })?;
                    attrs.push(("dtype".into(), AttrValue::DType(d)));
                }
                self.emit(&kind["reduce_".len()..], vec![x, axes], vec![out], attrs);
            }
            "arg_max" => {
                let x = self.input(op, "X")?;
                let axis = self.full(&[1], a.int("axis").unwrap_or(-1) as f64, DType::I64);
                let out = self.output(op, "Out")?;
                let mut attrs = op.copy(&["keepdims", "flatten"]);
                let code = a.int("dtype").unwrap_or(3);
                let dtype = DType::from_proto(code).ok_or_else(|| {
                    unsupported(kind, format_args!("dtype {code} is not supported"))
                })?;
                attrs.push(("dtype".into(), AttrValue::DType(dtype)));
                self.emit("argmax", vec![x, axis], vec![out], attrs);
            }
            other => {
                return Err(unsupported(
                    other,
                    "this legacy operator has no translation in this converter",
                ))
            }
        }
        Ok(())
    }

    /// `mul`: X flattened to 2-D at `x_num_col_dims` times a 2-D Y, as
    /// `flatten` + `matmul` (matmul broadcasts X's leading dims).
    fn mul(&mut self, op: &LegacyOp<'_>) -> Result<(), ErrorKind> {
        let a = &op.attrs;
        let x = self.input(op, "X")?;
        let y = self.input(op, "Y")?;
        let (dtype, x_dims) = self.ty(x)?;
        let y_rank = self.ty(y)?.1.len();
        let xk = a.int("x_num_col_dims").unwrap_or(1);
        let yk = a.int("y_num_col_dims").unwrap_or(1);
        if y_rank != 2 || yk != 1 {
            return Err(unsupported(
                "mul",
                "only a 2-D Y with y_num_col_dims = 1 is supported",
            ));
        }
        let rank = x_dims.len() as i64;
        if xk < 1 || xk >= rank {
            return Err(bad(format!(
                "x_num_col_dims {xk} is out of range for rank {rank}"
            )));
        }
        let xk = xk as usize;
        // x_num_col_dims: the leading dims stay (matmul broadcasts over
        // them), the rest flatten into one.
        let x = if xk + 1 == x_dims.len() {
            x
        } else {
            let tail = &x_dims[xk..];
            let inner = if tail.iter().all(|&d| d >= 0) {
                tail.iter().product()
            } else {
                -1
            };
            let mut dims = x_dims[..xk].to_vec();
            dims.push(inner);
            let flat = self.fresh(tensor(dtype, dims));
            self.emit(
                "flatten",
                vec![x],
                vec![flat],
                vec![
                    ("start_axis".into(), AttrValue::Int(xk as i64)),
                    ("stop_axis".into(), AttrValue::Int(rank - 1)),
                ],
            );
            flat
        };
        let out = self.output(op, "Out")?;
        self.emit(
            "matmul",
            vec![x, y],
            vec![out],
            vec![
                ("transpose_x".into(), AttrValue::Bool(false)),
                ("transpose_y".into(), AttrValue::Bool(false)),
            ],
        );
        Ok(())
    }

    /// The axis of `concat`/`split` as PIR's operand: the `AxisTensor`
    /// input, else a `full` of the `axis` attribute (default 0).
    fn axis_operand(&mut self, op: &LegacyOp<'_>) -> Result<ValueId, ErrorKind> {
        if op.has("AxisTensor") {
            return self.input(op, "AxisTensor");
        }
        let axis = match op.attrs.attr("axis") {
            Some(_) => op.attrs.int("axis")?,
            None => 0,
        };
        Ok(self.full(&[1], axis as f64, DType::I32))
    }

    /// `split` → `split` / `split_with_num` into a list value, then
    /// `builtin.split` naming the parts.
    fn split(&mut self, op: &LegacyOp<'_>) -> Result<(), ErrorKind> {
        let a = &op.attrs;
        let x = self.input(op, "X")?;
        let axis = self.axis_operand(op)?;
        let num = match a.attr("num") {
            Some(_) => a.int("num")?,
            None => 0,
        };
        let names = op.outputs("Out");
        if names.is_empty() {
            return Err(bad("no output `Out`"));
        }
        let parts = names
            .iter()
            .map(|n| self.define(n))
            .collect::<Result<Vec<_>, _>>()?;
        let types = parts
            .iter()
            .map(|p| {
                self.program
                    .types
                    .get(p)
                    .cloned()
                    .unwrap_or(ValueType::Null)
            })
            .collect();
        let list = self.fresh(ValueType::List(types));
        if num > 0 && !op.has("SectionsTensorList") {
            self.emit(
                "split_with_num",
                vec![x, axis],
                vec![list],
                vec![("num".into(), AttrValue::Int(num))],
            );
        } else {
            let sections = self.ints_operand(op, "", "SectionsTensorList", "sections")?;
            self.emit("split", vec![x, sections, axis], vec![list], vec![]);
        }
        self.emit("builtin.split", vec![list], parts, vec![]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::proto::*;
    use super::*;

    fn var(name: &str, kind: i32, dtype: i32, dims: &[i64], persistable: bool) -> VarDesc {
        VarDesc {
            name: name.into(),
            r#type: VarType {
                r#type: kind,
                dense_tensor: (kind == var_type::DENSE_TENSOR).then(|| DenseTensorDesc {
                    tensor: TensorDesc {
                        data_type: dtype,
                        dims: dims.to_vec(),
                    },
                    lod_level: Some(0),
                }),
            },
            persistable: Some(persistable),
        }
    }

    fn tensor_var(name: &str, dims: &[i64], persistable: bool) -> VarDesc {
        var(name, var_type::DENSE_TENSOR, 5, dims, persistable)
    }

    fn slots(pairs: &[(&str, &[&str])]) -> Vec<OpVar> {
        pairs
            .iter()
            .map(|(p, args)| OpVar {
                parameter: (*p).into(),
                arguments: args.iter().map(|&s| s.into()).collect(),
            })
            .collect()
    }

    fn attr(name: &str, ty: i32) -> proto::Attr {
        proto::Attr {
            name: name.into(),
            r#type: ty,
            ..Default::default()
        }
    }

    fn int(name: &str, v: i32) -> proto::Attr {
        proto::Attr {
            i: Some(v),
            ..attr(name, attr_type::INT)
        }
    }

    fn ints(name: &str, v: &[i32]) -> proto::Attr {
        proto::Attr {
            ints: v.to_vec(),
            ..attr(name, attr_type::INTS)
        }
    }

    fn string(name: &str, v: &str) -> proto::Attr {
        proto::Attr {
            s: Some(v.into()),
            ..attr(name, attr_type::STRING)
        }
    }

    fn op(
        kind: &str,
        inputs: &[(&str, &[&str])],
        outputs: &[(&str, &[&str])],
        attrs: Vec<proto::Attr>,
    ) -> OpDesc {
        OpDesc {
            inputs: slots(inputs),
            outputs: slots(outputs),
            r#type: kind.into(),
            attrs,
        }
    }

    /// feed → conv2d → elementwise_add (axis 1, a [4] bias) → fetch.
    fn program() -> ProgramDesc {
        let vars = vec![
            var("feed", var_type::FEED_MINIBATCH, 0, &[], true),
            var("fetch", var_type::FETCH_LIST, 0, &[], true),
            tensor_var("x", &[-1, 3, 8, 8], false),
            tensor_var("conv2d_2.w_0", &[4, 3, 3, 3], true),
            tensor_var("conv2d_10.b_0", &[4], true),
            tensor_var("conv2d_0.tmp_0", &[-1, 4, 8, 8], false),
            tensor_var("conv2d_0.tmp_1", &[-1, 4, 8, 8], false),
        ];
        let ops = vec![
            op(
                "feed",
                &[("X", &["feed"])],
                &[("Out", &["x"])],
                vec![int("col", 0)],
            ),
            op(
                "conv2d",
                &[
                    ("Bias", &[]),
                    ("Filter", &["conv2d_2.w_0"]),
                    ("Input", &["x"]),
                    ("ResidualData", &[]),
                ],
                &[("Output", &["conv2d_0.tmp_0"])],
                vec![
                    ints("strides", &[1, 1]),
                    ints("paddings", &[1, 1]),
                    ints("dilations", &[1, 1]),
                    int("groups", 1),
                    string("padding_algorithm", "EXPLICIT"),
                    string("data_format", "NCHW"),
                    int("op_role", 0),
                    proto::Attr {
                        strings: vec!["frame".into()],
                        ..attr("op_callstack", attr_type::STRINGS)
                    },
                ],
            ),
            op(
                "elementwise_add",
                &[("X", &["conv2d_0.tmp_0"]), ("Y", &["conv2d_10.b_0"])],
                &[("Out", &["conv2d_0.tmp_1"])],
                vec![int("axis", 1)],
            ),
            op(
                "fetch",
                &[("X", &["conv2d_0.tmp_1"])],
                &[("Out", &["fetch"])],
                vec![int("col", 0)],
            ),
        ];
        ProgramDesc {
            blocks: vec![BlockDesc {
                idx: 0,
                parent_idx: -1,
                vars,
                ops,
            }],
            version: Some(Version {
                version: Some(2_003_002),
            }),
        }
    }

    fn attrs_of(op: &Op) -> Vec<&str> {
        op.attrs.iter().map(|(n, _)| n.as_str()).collect()
    }

    #[test]
    fn reads_feed_conv_add_fetch() {
        let p = read_legacy(&program().encode_to_vec()).unwrap();
        assert_eq!(p.format, SourceFormat::Legacy);
        // Byte-wise order: "conv2d_10.b_0" < "conv2d_2.w_0".
        let names: Vec<_> = p
            .params
            .iter()
            .map(|q| (q.name.as_str(), q.value))
            .collect();
        assert_eq!(names, [("conv2d_10.b_0", 1), ("conv2d_2.w_0", 2)]);
        assert_eq!(p.params[1].dims, [4, 3, 3, 3]);
        assert_eq!(p.params[1].dtype, DType::F32);

        let kinds: Vec<_> = p.ops.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "data",
                "conv2d",
                "full_int_array",
                "unsqueeze",
                "add",
                "fetch"
            ]
        );
        let data = &p.ops[0];
        assert_eq!(data.outputs, [3]);
        assert_eq!(data.str("name").unwrap(), "x");
        assert_eq!(data.ints("shape").unwrap(), [-1, 3, 8, 8]);
        assert_eq!(p.dims(3), Some(&[-1, 3, 8, 8][..]));

        let conv = &p.ops[1];
        assert_eq!(
            (conv.inputs.as_slice(), conv.outputs.as_slice()),
            (&[3, 2][..], &[4][..])
        );
        assert_eq!(
            attrs_of(conv),
            [
                "strides",
                "paddings",
                "padding_algorithm",
                "dilations",
                "groups",
                "data_format"
            ]
        );
        assert_eq!(conv.ints("paddings").unwrap(), [1, 1]);
        assert_eq!(conv.int("groups").unwrap(), 1);

        // The [4] bias lines up at axis 1 of [N,4,8,8]: unsqueezed to [4,1,1].
        let axes = &p.ops[2];
        assert_eq!(axes.ints("value").unwrap(), [1, 2]);
        assert_eq!(axes.dtype("dtype").unwrap(), DType::I64);
        let unsqueeze = &p.ops[3];
        assert_eq!(unsqueeze.inputs, [1, axes.outputs[0]]);
        assert_eq!(p.dims(unsqueeze.outputs[0]), Some(&[4, 1, 1][..]));
        let add = &p.ops[4];
        assert_eq!(add.inputs, [4, unsqueeze.outputs[0]]);
        assert!(add.attrs.is_empty());

        let fetch = &p.ops[5];
        assert_eq!(fetch.inputs, add.outputs);
        assert_eq!(fetch.str("name").unwrap(), "conv2d_0.tmp_1");
        assert_eq!(fetch.int("col").unwrap(), 0);
        assert_eq!(p.dims(fetch.outputs[0]), Some(&[-1, 4, 8, 8][..]));
    }

    #[test]
    fn in_place_writes_get_new_ids_and_side_results_are_dropped() {
        let mut desc = program();
        let block = &mut desc.blocks[0];
        block.vars.extend([
            tensor_var("bn.mean", &[4], true),
            tensor_var("bn.var", &[4], true),
            tensor_var("bn.saved", &[4], false),
        ]);
        // batch_norm writes its mean parameter (MeanOut) and then relu works
        // in place on the conv output; the fetch must see the relu's value.
        block.ops.insert(
            2,
            op(
                "batch_norm",
                &[
                    ("X", &["conv2d_0.tmp_0"]),
                    ("Mean", &["bn.mean"]),
                    ("Variance", &["bn.var"]),
                ],
                &[
                    ("Y", &["conv2d_0.tmp_0"]),
                    ("MeanOut", &["bn.mean"]),
                    ("SavedMean", &["bn.saved"]),
                ],
                vec![
                    proto::Attr {
                        f: Some(1e-5),
                        ..attr("epsilon", attr_type::FLOAT)
                    },
                    string("data_layout", "NCHW"),
                ],
            ),
        );
        block.ops.insert(
            3,
            op(
                "relu",
                &[("X", &["conv2d_0.tmp_0"])],
                &[("Out", &["conv2d_0.tmp_0"])],
                vec![],
            ),
        );
        let p = read_legacy(&desc.encode_to_vec()).unwrap();
        let by_name: HashMap<_, _> = p
            .params
            .iter()
            .map(|q| (q.name.as_str(), q.value))
            .collect();
        let kinds: Vec<_> = p.ops.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "data",
                "conv2d",
                "batch_norm",
                "relu",
                "full_int_array",
                "unsqueeze",
                "add",
                "fetch"
            ]
        );
        let (conv, bn, relu, add) = (&p.ops[1], &p.ops[2], &p.ops[3], &p.ops[6]);
        assert_eq!(
            bn.inputs,
            [conv.outputs[0], by_name["bn.mean"], by_name["bn.var"], 0, 0]
        );
        assert_eq!(bn.outputs.len(), 1);
        assert_ne!(bn.outputs[0], conv.outputs[0]);
        assert_eq!(bn.str("data_format").unwrap(), "NCHW");
        assert_eq!(bn.float("epsilon").unwrap() as f32, 1e-5);
        assert_eq!(relu.inputs, bn.outputs);
        assert_eq!(add.inputs[0], relu.outputs[0]);
        // Every value is defined once.
        let mut defined: Vec<_> = p.ops.iter().flat_map(|o| o.outputs.clone()).collect();
        defined.extend(p.params.iter().map(|q| q.value));
        let n = defined.len();
        defined.sort_unstable();
        defined.dedup();
        assert_eq!(defined.len(), n);
    }

    #[test]
    fn attributes_become_operands() {
        let mut desc = program();
        let block = &mut desc.blocks[0];
        block.vars.extend([
            tensor_var("pool", &[-1, 4, 1, 1], false),
            tensor_var("flat", &[-1, 4], false),
            tensor_var("cat", &[-1, 8], false),
            tensor_var("drop", &[-1, 8], false),
            tensor_var("sliced", &[-1, 4], false),
        ]);
        let fetch = block.ops.pop().unwrap();
        block.ops.extend([
            op(
                "pool2d",
                &[("X", &["conv2d_0.tmp_1"])],
                &[("Out", &["pool"])],
                vec![
                    ints("ksize", &[1, 1]),
                    string("pooling_type", "avg"),
                    proto::Attr {
                        b: Some(true),
                        ..attr("adaptive", attr_type::BOOLEAN)
                    },
                ],
            ),
            op(
                "reshape2",
                &[("X", &["pool"]), ("Shape", &[]), ("ShapeTensor", &[])],
                &[("Out", &["flat"]), ("XShape", &["pool.xshape"])],
                vec![ints("shape", &[-1, 4])],
            ),
            op(
                "concat",
                &[("X", &["flat", "flat"])],
                &[("Out", &["cat"])],
                vec![int("axis", 1)],
            ),
            op(
                "dropout",
                &[("X", &["cat"])],
                &[("Out", &["drop"]), ("Mask", &["mask"])],
                vec![
                    proto::Attr {
                        f: Some(0.2),
                        ..attr("dropout_prob", attr_type::FLOAT)
                    },
                    string("dropout_implementation", "downgrade_in_infer"),
                ],
            ),
            op(
                "slice",
                &[("Input", &["drop"])],
                &[("Out", &["sliced"])],
                vec![
                    ints("axes", &[1]),
                    proto::Attr {
                        longs: vec![0],
                        ..attr("starts", attr_type::LONGS)
                    },
                    ints("ends", &[4]),
                ],
            ),
            OpDesc {
                inputs: slots(&[("X", &["sliced"])]),
                ..fetch
            },
        ]);
        let p = read_legacy(&desc.encode_to_vec()).unwrap();
        let find = |kind: &str| p.ops.iter().find(|o| o.kind == kind).unwrap();
        let producer = |id: ValueId| p.ops.iter().find(|o| o.outputs.contains(&id)).unwrap();
        let pool = find("pool2d");
        assert_eq!(producer(pool.inputs[1]).ints("value").unwrap(), [1, 1]);
        assert!(pool.bool("adaptive").unwrap());
        let reshape = find("reshape");
        assert_eq!(reshape.outputs.len(), 1);
        assert_eq!(producer(reshape.inputs[1]).ints("value").unwrap(), [-1, 4]);
        let concat = find("concat");
        let combine = producer(concat.inputs[0]);
        assert_eq!(combine.kind, "builtin.combine");
        assert_eq!(combine.inputs, [reshape.outputs[0], reshape.outputs[0]]);
        assert!(
            matches!(p.types.get(&combine.outputs[0]), Some(ValueType::List(l)) if l.len() == 2)
        );
        let axis = producer(concat.inputs[1]);
        assert_eq!(
            (axis.kind.as_str(), axis.float("value").unwrap()),
            ("full", 1.0)
        );
        assert_eq!(axis.dtype("dtype").unwrap(), DType::I32);
        let dropout = find("dropout");
        assert_eq!(dropout.inputs[1], 0);
        assert_eq!(
            producer(dropout.inputs[2]).float("value").unwrap() as f32,
            0.2
        );
        assert_eq!(dropout.str("mode").unwrap(), "downgrade_in_infer");
        let slice = find("slice");
        assert_eq!(producer(slice.inputs[1]).ints("value").unwrap(), [0]);
        assert_eq!(producer(slice.inputs[2]).ints("value").unwrap(), [4]);
        assert_eq!(slice.ints("axes").unwrap(), [1]);
    }

    #[test]
    fn unknown_operators_are_unsupported() {
        let mut desc = program();
        desc.blocks[0].ops[2].r#type = "lookup_table_v2".into();
        let e = read_legacy(&desc.encode_to_vec()).unwrap_err();
        assert!(
            matches!(&e, ErrorKind::Unsupported(m) if m.contains("lookup_table_v2")),
            "{e}"
        );
    }

    #[test]
    fn garbage_and_truncated_files_are_errors() {
        let bytes = program().encode_to_vec();
        for cut in 0..bytes.len() {
            // Any prefix: an error or (where the cut falls between fields) a
            // smaller program, never a panic.
            if let Err(e) = read_legacy(&bytes[..cut]) {
                assert!(
                    matches!(e, ErrorKind::Program(_) | ErrorKind::Unsupported(_)),
                    "{e}"
                );
            }
        }
        for garbage in [
            &b""[..],
            b"\xff\xff\xff",
            b"{\"base_code\":1}",
            b"\x0a\xff\xff\xff\xff\x0f",
        ] {
            assert!(matches!(read_legacy(garbage), Err(ErrorKind::Program(_))));
        }
        // Deterministic noise.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for len in [1usize, 7, 64, 1000] {
            let noise: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            assert!(read_legacy(&noise).is_err());
        }
        // A flood of empty operators is refused before decoding.
        let mut block = vec![0x08, 0x00];
        for _ in 0..(MAX_MESSAGES + 1) {
            block.extend([0x22, 0x00]);
        }
        let mut flood = vec![0x0a];
        let mut len = block.len();
        while len >= 0x80 {
            flood.push((len as u8) | 0x80);
            len >>= 7;
        }
        flood.push(len as u8);
        flood.extend(block);
        let e = read_legacy(&flood).unwrap_err().to_string();
        assert!(e.contains("messages"), "{e}");
    }

    #[test]
    fn reads_the_real_ocr_classifier() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/paddle/ch_ppocr_cls_legacy/inference.pdmodel");
        let Ok(bytes) = std::fs::read(&path) else {
            return;
        };
        let p = read_legacy(&bytes).unwrap();
        assert_eq!(p.params.len(), 213);
        assert_eq!(p.params[0].name, "batch_norm_0.b_0");
        assert_eq!(p.ops.first().map(|o| o.kind.as_str()), Some("data"));
        assert_eq!(p.ops.last().map(|o| o.kind.as_str()), Some("fetch"));
        let fetch = p.ops.last().unwrap();
        assert_eq!(fetch.str("name").unwrap(), "softmax_0.tmp_0");
    }
}
