//! From a [`Program`] to an ONNX graph: one ONNX translation per Paddle
//! operator, constants folded where every operand is known.
//!
//! * [`fold`]: the constant evaluator (`full`, `full_int_array`, shape
//!   arithmetic, Swin's attention mask, ...).
//! * [`nn`]: convolution, normalisation, pooling, dropout.
//! * [`math`]: element-wise arithmetic, activations, `matmul`, reductions.
//! * [`tensor`]: shape and layout operators (`reshape`, `concat`, `slice`, ...).

mod fold;
mod math;
mod nn;
mod tensor;

use std::collections::HashMap;

use crate::error::{unsupported, ErrorKind};
use crate::onnx::{Attr, Dim, GraphBuilder};
use crate::program::{DType, Op, Program, ValueId, ValueType};

pub(crate) use fold::Const;

/// Translates `program`'s operators into `g`, whose initializers (the
/// parameters) are already in place under their parameter names.
pub(crate) struct Emitter<'p> {
    prog: &'p Program,
    pub(crate) g: GraphBuilder,
    opset: i64,
    /// ONNX names of values already produced.
    names: HashMap<ValueId, String>,
    /// Values known at conversion time.
    consts: HashMap<ValueId, Const>,
    /// `builtin.combine` results: the listed values.
    lists: HashMap<ValueId, Vec<ValueId>>,
    /// Graph outputs: (`col`, name, value).
    outputs: Vec<(i64, String, ValueId)>,
    fresh: usize,
}

impl<'p> Emitter<'p> {
    pub(crate) fn new(prog: &'p Program, g: GraphBuilder, opset: i64) -> Self {
        let names = prog
            .params
            .iter()
            .map(|p| (p.value, p.name.clone()))
            .collect();
        Emitter {
            prog,
            g,
            opset,
            names,
            consts: HashMap::new(),
            lists: HashMap::new(),
            outputs: Vec::new(),
            fresh: 0,
        }
    }

    /// Translates every operator, then declares the graph outputs.
    pub(crate) fn run(mut self) -> Result<GraphBuilder, ErrorKind> {
        for op in &self.prog.ops {
            self.op(op)?;
        }
        if self.outputs.is_empty() {
            return Err(ErrorKind::Program(
                "the program has no `fetch` operator".into(),
            ));
        }
        self.outputs.sort_by_key(|o| o.0);
        for (_, name, value) in std::mem::take(&mut self.outputs) {
            let (dtype, dims) = self.tensor_type(value)?;
            let dims: Vec<Dim> = dims.iter().enumerate().map(|(i, &d)| dim(i, d)).collect();
            let elem = dtype.onnx()?;
            self.g.output(&name, elem, &dims);
        }
        Ok(self.g)
    }

    fn op(&mut self, op: &Op) -> Result<(), ErrorKind> {
        if fold::fold(self, op)? {
            return Ok(());
        }
        match op.kind.as_str() {
            "data" => self.data(op),
            "fetch" => self.fetch(op),
            "builtin.combine" => {
                self.lists.insert(op.output(0), op.inputs.clone());
                Ok(())
            }
            "builtin.split" => tensor::unpack(self, op),
            "assign" | "share_data" | "share_data_" | "memcpy_h2d" | "memcpy_d2h" => {
                let name = self.name(op.input(0))?;
                self.names.insert(op.output(0), name);
                Ok(())
            }
            "conv2d" | "depthwise_conv2d" => nn::conv2d(self, op),
            "batch_norm" | "batch_norm_" => nn::batch_norm(self, op),
            "pool2d" => nn::pool2d(self, op),
            "layer_norm" => nn::layer_norm(self, op),
            "dropout" => nn::dropout(self, op),
            "softmax" | "log_softmax" => nn::softmax(self, op),
            "matmul" => math::matmul(self, op),
            "add" | "subtract" | "multiply" | "divide" | "maximum" | "minimum"
            | "elementwise_pow" | "floor_divide" | "remainder" | "equal" | "not_equal"
            | "less_than" | "less_equal" | "greater_than" | "greater_equal" | "logical_and"
            | "logical_or" | "add_" | "multiply_" | "subtract_" | "divide_" => {
                math::binary(self, op)
            }
            "relu" | "relu_" | "relu6" | "sigmoid" | "hardswish" | "hardsigmoid" | "swish"
            | "silu" | "gelu" | "leaky_relu" | "tanh" | "exp" | "sqrt" | "rsqrt" | "abs"
            | "erf" | "log" | "square" | "floor" | "ceil" | "logical_not" | "elu" | "softplus"
            | "mish" | "reciprocal" | "sin" | "cos" => math::unary(self, op),
            "pow" => math::pow(self, op),
            "scale" | "scale_" => math::scale(self, op),
            "clip" => math::clip(self, op),
            "where" => math::where_(self, op),
            "mean" | "sum" | "max" | "min" | "prod" => math::reduce(self, op),
            "cast" => tensor::cast(self, op),
            "reshape" | "reshape_" => tensor::reshape(self, op),
            "flatten" | "flatten_" => tensor::flatten(self, op),
            "transpose" => tensor::transpose(self, op),
            "concat" => tensor::concat(self, op),
            "split" | "split_with_num" => tensor::split(self, op),
            "squeeze" | "squeeze_" => tensor::squeeze(self, op),
            "unsqueeze" | "unsqueeze_" => tensor::unsqueeze(self, op),
            "shape" | "shape64" => tensor::shape(self, op),
            "slice" => tensor::slice(self, op),
            "strided_slice" => tensor::strided_slice(self, op),
            "stack" => tensor::stack(self, op),
            "expand" => tensor::expand(self, op),
            "roll" => tensor::roll(self, op),
            "index_select" | "gather" => tensor::gather(self, op),
            "full_like" => tensor::full_like(self, op),
            "pad" => tensor::pad(self, op),
            other => Err(unsupported(
                other,
                "this operator has no ONNX translation in this converter",
            )),
        }
    }

    fn data(&mut self, op: &Op) -> Result<(), ErrorKind> {
        let name = op.str("name")?.to_owned();
        let out = op.output(0);
        let (dtype, dims) = self.tensor_type(out)?;
        let dims: Vec<Dim> = dims.iter().enumerate().map(|(i, &d)| dim(i, d)).collect();
        let elem = dtype.onnx()?;
        self.g.input(&name, elem, &dims);
        self.names.insert(out, name);
        Ok(())
    }

    fn fetch(&mut self, op: &Op) -> Result<(), ErrorKind> {
        let name = op.str("name")?.to_owned();
        let col = op.int("col").unwrap_or(self.outputs.len() as i64);
        let input = self.name(op.input(0))?;
        self.g.node("Identity", &[&input], &[&name], &[]);
        self.names.insert(op.output(0), name.clone());
        self.outputs.push((col, name, op.input(0)));
        Ok(())
    }

    // ---- values -------------------------------------------------------

    /// The ONNX name of value `id`, writing it as an initializer first if it
    /// is a folded constant.
    pub(crate) fn name(&mut self, id: ValueId) -> Result<String, ErrorKind> {
        if let Some(name) = self.names.get(&id) {
            return Ok(name.clone());
        }
        if let Some(c) = self.consts.get(&id).cloned() {
            let name = format!("const_{id}");
            c.write(&mut self.g, &name)?;
            self.names.insert(id, name.clone());
            return Ok(name);
        }
        if self.lists.contains_key(&id) {
            return Err(ErrorKind::Program(format!(
                "the list value %{id} is used where a tensor is expected"
            )));
        }
        Err(ErrorKind::Program(format!(
            "value %{id} is read before anything produces it"
        )))
    }

    /// The ONNX name of operand `i` of `op`, which must be present.
    pub(crate) fn input(&mut self, op: &Op, i: usize) -> Result<String, ErrorKind> {
        match op.input(i) {
            0 => Err(ErrorKind::Program(format!(
                "operator `{}` lacks operand {i}",
                op.kind
            ))),
            id => self.name(id),
        }
    }

    /// The constant value of `id`, if known.
    pub(crate) fn constant(&self, id: ValueId) -> Option<&Const> {
        self.consts.get(&id)
    }

    /// Operand `i` of `op` as integers, which must be known at conversion time.
    pub(crate) fn const_ints(&self, op: &Op, i: usize) -> Result<Vec<i64>, ErrorKind> {
        let id = op.input(i);
        if let Some(c) = self.consts.get(&id) {
            return Ok(c.ints());
        }
        if let Some(items) = self.lists.get(&id) {
            return items
                .iter()
                .map(|v| match self.consts.get(v) {
                    Some(c) if c.len() == 1 => Ok(c.ints()[0]),
                    _ => Err(()),
                })
                .collect::<Result<Vec<_>, ()>>()
                .map_err(|()| not_constant(op, i));
        }
        Err(not_constant(op, i))
    }

    /// Operand `i` of `op` as one number known at conversion time.
    pub(crate) fn const_scalar(&self, op: &Op, i: usize) -> Result<f64, ErrorKind> {
        match self.consts.get(&op.input(i)) {
            Some(c) if c.len() == 1 => Ok(c.floats()[0]),
            _ => Err(not_constant(op, i)),
        }
    }

    /// Static type of tensor value `id`.
    pub(crate) fn tensor_type(&self, id: ValueId) -> Result<(DType, Vec<i64>), ErrorKind> {
        match self.prog.types.get(&id) {
            Some(ValueType::Tensor { dtype, dims }) => Ok((*dtype, dims.clone())),
            _ => Err(ErrorKind::Program(format!("value %{id} is not a tensor"))),
        }
    }

    /// Static dims of tensor value `id`.
    pub(crate) fn dims(&self, id: ValueId) -> Result<Vec<i64>, ErrorKind> {
        Ok(self.tensor_type(id)?.1)
    }

    /// Element type of tensor value `id`.
    pub(crate) fn dtype(&self, id: ValueId) -> Result<DType, ErrorKind> {
        Ok(self.tensor_type(id)?.0)
    }

    /// The values a list value (`builtin.combine`'s result) holds.
    pub(crate) fn list(&self, op: &Op, i: usize) -> Result<Vec<ValueId>, ErrorKind> {
        self.lists.get(&op.input(i)).cloned().ok_or_else(|| {
            ErrorKind::Program(format!(
                "operator `{}`: operand {i} is not a list built by `builtin.combine`",
                op.kind
            ))
        })
    }

    /// Records `c` as the value of `id`.
    pub(crate) fn set_const(&mut self, id: ValueId, c: Const) {
        self.consts.insert(id, c);
    }

    /// Records `name` as the ONNX name of value `id`.
    pub(crate) fn set_name(&mut self, id: ValueId, name: String) {
        self.names.insert(id, name);
    }

    /// The name for result `i` of `op` (registered).
    pub(crate) fn out(&mut self, op: &Op, i: usize) -> String {
        let id = op.output(i);
        let name = format!("v{id}");
        self.names.insert(id, name.clone());
        name
    }

    /// A fresh name for an intermediate value.
    pub(crate) fn tmp(&mut self, hint: &str) -> String {
        self.fresh += 1;
        format!("{hint}__{}", self.fresh)
    }

    /// Adds a node with one output called `out`.
    pub(crate) fn node(&mut self, op_type: &str, inputs: &[&str], out: &str, attrs: &[Attr]) {
        self.g.node(op_type, inputs, &[out], attrs);
    }

    /// Adds a node whose one output is a fresh value; returns its name.
    pub(crate) fn node_tmp(&mut self, op_type: &str, inputs: &[&str], attrs: &[Attr]) -> String {
        let out = self.tmp(op_type);
        self.node(op_type, inputs, &out, attrs);
        out
    }

    /// A constant `f32`/`f64`/... scalar or tensor of element type `dtype`.
    pub(crate) fn const_tensor(
        &mut self,
        dtype: DType,
        dims: &[i64],
        values: &[f64],
    ) -> Result<String, ErrorKind> {
        let name = self.tmp("c");
        Const::from_floats(dtype, dims.to_vec(), values.to_vec()).write(&mut self.g, &name)?;
        Ok(name)
    }

    /// A constant `i64` tensor.
    pub(crate) fn const_i64(&mut self, values: &[i64]) -> String {
        let name = self.tmp("shape");
        self.g
            .initializer_i64(&name, &[values.len() as i64], values);
        name
    }

    /// The opset the model is written for.
    pub(crate) fn opset(&self) -> i64 {
        self.opset
    }
}

fn not_constant(op: &Op, i: usize) -> ErrorKind {
    unsupported(
        &op.kind,
        format_args!(
            "operand {i} must be known at conversion time, and it is computed at run time"
        ),
    )
}

/// An ONNX dimension for Paddle dim `d` at position `i`.
fn dim(i: usize, d: i64) -> Dim<'static> {
    if d >= 0 {
        Dim::Fixed(d)
    } else if i == 0 {
        Dim::Param("batch")
    } else {
        const NAMES: [&str; 8] = ["d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7"];
        Dim::Param(NAMES.get(i).copied().unwrap_or("d"))
    }
}

/// The ONNX element type of a Paddle type, as used in `Cast`'s `to`.
pub(crate) fn onnx_code(dtype: DType) -> Result<i64, ErrorKind> {
    Ok(i64::from(dtype.onnx()?.code()))
}

/// `axis` counted from the front (Paddle allows negative axes).
pub(crate) fn norm_axis(op: &Op, axis: i64, rank: usize) -> Result<i64, ErrorKind> {
    let rank = rank as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if !(0..rank.max(1)).contains(&a) {
        return Err(ErrorKind::Program(format!(
            "operator `{}`: axis {axis} is out of range for rank {rank}",
            op.kind
        )));
    }
    Ok(a)
}
