//! The converter's view of a Paddle inference program, whichever file it
//! came from: operators in execution order over numbered values, each value
//! with its static type, and the parameters the weights file holds.

use std::collections::HashMap;

use crate::error::ErrorKind;
use crate::onnx::DataType;

/// A value's number. Paddle's PIR numbers values from 1; 0 stands for an
/// absent optional operand.
pub type ValueId = i64;

/// Element types of Paddle tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// `bool`.
    Bool,
    /// `int8`.
    I8,
    /// `uint8`.
    U8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// `float16`.
    F16,
    /// `bfloat16`.
    BF16,
    /// `float32`.
    F32,
    /// `float64`.
    F64,
    /// `complex64`.
    C64,
    /// `complex128`.
    C128,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }

    /// From a PIR type tag's tail (`t_f32`) or a Paddle dtype name (`float32`).
    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "t_bool" | "bool" => DType::Bool,
            "t_i8" | "int8" => DType::I8,
            "t_ui8" | "uint8" => DType::U8,
            "t_i16" | "int16" => DType::I16,
            "t_i32" | "int32" => DType::I32,
            "t_i64" | "int64" | "t_index" => DType::I64,
            "t_f16" | "float16" => DType::F16,
            "t_bf16" | "bfloat16" => DType::BF16,
            "t_f32" | "float32" => DType::F32,
            "t_f64" | "float64" => DType::F64,
            "t_c64" | "complex64" => DType::C64,
            "t_c128" | "complex128" => DType::C128,
            _ => return None,
        })
    }

    /// From Paddle's `VarType.Type` code (the pdiparams `TensorDesc` and the
    /// legacy ProgramDesc).
    pub fn from_proto(code: i64) -> Option<DType> {
        Some(match code {
            0 => DType::Bool,
            1 => DType::I16,
            2 => DType::I32,
            3 => DType::I64,
            4 => DType::F16,
            5 => DType::F32,
            6 => DType::F64,
            20 => DType::U8,
            21 => DType::I8,
            22 => DType::BF16,
            23 => DType::C64,
            24 => DType::C128,
            _ => return None,
        })
    }

    /// The matching ONNX element type, where ONNX Runtime's CPU kernels
    /// have one.
    pub fn onnx(self) -> Result<DataType, ErrorKind> {
        Ok(match self {
            DType::Bool => DataType::Bool,
            DType::I8 => DataType::Int8,
            DType::U8 => DataType::Uint8,
            DType::I32 => DataType::Int32,
            DType::I64 => DataType::Int64,
            DType::F16 => DataType::Float16,
            DType::F32 => DataType::Float,
            DType::F64 => DataType::Double,
            other => {
                return Err(ErrorKind::Unsupported(format!(
                    "tensors of type {other:?} have no ONNX counterpart here"
                )))
            }
        })
    }

    /// Whether this is a floating-point type.
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
    }
}

/// A value's static type.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueType {
    /// A dense tensor; `-1` marks a dimension known only at run time.
    Tensor {
        /// Element type.
        dtype: DType,
        /// Dimensions.
        dims: Vec<i64>,
    },
    /// A list of values (`builtin.combine`'s result, `split`'s output).
    List(Vec<ValueType>),
    /// No type (an absent result).
    Null,
}

/// An attribute value, read by value rather than by its type tag (Paddle
/// changed several tags between releases: `i32`→`i64`, `f32`→`f64`).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A boolean.
    Bool(bool),
    /// Any integer.
    Int(i64),
    /// Any float.
    Float(f64),
    /// A string (also layouts).
    Str(String),
    /// A list of attributes.
    Array(Vec<AttrValue>),
    /// A dtype.
    DType(DType),
    /// Something the converter never reads (a place, a type).
    Other,
}

/// One operator application.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// The operator: `conv2d` for Paddle's own operators (`pd_op.conv2d`),
    /// `builtin.combine` and the like for the builtin dialect.
    pub kind: String,
    /// Operand values in signature order; 0 for an absent optional one.
    pub inputs: Vec<ValueId>,
    /// Result values; 0 for an absent one.
    pub outputs: Vec<ValueId>,
    /// Attributes by name, in file order.
    pub attrs: Vec<(String, AttrValue)>,
}

impl Op {
    /// The attribute called `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn bad(&self, name: &str, want: &str) -> ErrorKind {
        match self.attr(name) {
            None => ErrorKind::Program(format!(
                "operator `{}` lacks its attribute `{name}`",
                self.kind
            )),
            Some(v) => ErrorKind::Program(format!(
                "operator `{}`: attribute `{name}` is {v:?}, expected {want}",
                self.kind
            )),
        }
    }

    /// An integer attribute (any integer tag, or an integral float).
    pub fn int(&self, name: &str) -> Result<i64, ErrorKind> {
        self.attr(name)
            .and_then(as_int)
            .ok_or_else(|| self.bad(name, "an integer"))
    }

    /// A float attribute (any float tag, or an integer).
    pub fn float(&self, name: &str) -> Result<f64, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::Float(f)) => Ok(*f),
            Some(AttrValue::Int(i)) => Ok(*i as f64),
            _ => Err(self.bad(name, "a number")),
        }
    }

    /// A boolean attribute.
    pub fn bool(&self, name: &str) -> Result<bool, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::Bool(b)) => Ok(*b),
            Some(AttrValue::Int(i @ (0 | 1))) => Ok(*i == 1),
            _ => Err(self.bad(name, "a boolean")),
        }
    }

    /// A boolean attribute, `default` when absent.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ErrorKind> {
        if self.attr(name).is_none() {
            return Ok(default);
        }
        self.bool(name)
    }

    /// A string attribute.
    pub fn str(&self, name: &str) -> Result<&str, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::Str(s)) => Ok(s),
            _ => Err(self.bad(name, "a string")),
        }
    }

    /// A list-of-integers attribute (a single integer counts as a list of one).
    pub fn ints(&self, name: &str) -> Result<Vec<i64>, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::Array(items)) => items
                .iter()
                .map(as_int)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad(name, "a list of integers")),
            Some(v) => as_int(v)
                .map(|i| vec![i])
                .ok_or_else(|| self.bad(name, "a list of integers")),
            None => Err(self.bad(name, "a list of integers")),
        }
    }

    /// A list-of-numbers attribute.
    pub fn floats(&self, name: &str) -> Result<Vec<f64>, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::Array(items)) => items
                .iter()
                .map(|v| match v {
                    AttrValue::Float(f) => Some(*f),
                    AttrValue::Int(i) => Some(*i as f64),
                    AttrValue::Bool(b) => Some(f64::from(u8::from(*b))),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.bad(name, "a list of numbers")),
            _ => Err(self.bad(name, "a list of numbers")),
        }
    }

    /// A dtype attribute.
    pub fn dtype(&self, name: &str) -> Result<DType, ErrorKind> {
        match self.attr(name) {
            Some(AttrValue::DType(d)) => Ok(*d),
            Some(AttrValue::Str(s)) => DType::from_name(s).ok_or_else(|| self.bad(name, "a dtype")),
            Some(AttrValue::Int(code)) => {
                DType::from_proto(*code).ok_or_else(|| self.bad(name, "a dtype"))
            }
            _ => Err(self.bad(name, "a dtype")),
        }
    }

    /// Operand `i`, or 0 when absent.
    pub fn input(&self, i: usize) -> ValueId {
        self.inputs.get(i).copied().unwrap_or(0)
    }

    /// Result `i`, or 0 when absent.
    pub fn output(&self, i: usize) -> ValueId {
        self.outputs.get(i).copied().unwrap_or(0)
    }
}

fn as_int(v: &AttrValue) -> Option<i64> {
    match v {
        AttrValue::Int(i) => Some(*i),
        AttrValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        AttrValue::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// A weight stored in the parameters file.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Its name, which orders the parameters file.
    pub name: String,
    /// The value the program reads it through.
    pub value: ValueId,
    /// Element type the program declares.
    pub dtype: DType,
    /// Dimensions the program declares.
    pub dims: Vec<i64>,
}

/// Which file a program was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// Paddle 3's PIR JSON, with the writer's `base_code.version`.
    Pir(u64),
    /// The legacy ProgramDesc protobuf (`.pdmodel`).
    Legacy,
}

/// A whole inference program.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Operators in execution order (parameters are in [`Program::params`]).
    pub ops: Vec<Op>,
    /// Every value's static type.
    pub types: HashMap<ValueId, ValueType>,
    /// Persistable parameters in the order of the parameters file.
    pub params: Vec<Parameter>,
    /// Where it came from.
    pub format: SourceFormat,
}

impl Program {
    /// The static dims of tensor value `id`.
    pub fn dims(&self, id: ValueId) -> Option<&[i64]> {
        match self.types.get(&id) {
            Some(ValueType::Tensor { dims, .. }) => Some(dims),
            _ => None,
        }
    }

    /// The element type of tensor value `id`.
    pub fn dtype(&self, id: ValueId) -> Option<DType> {
        match self.types.get(&id) {
            Some(ValueType::Tensor { dtype, .. }) => Some(*dtype),
            _ => None,
        }
    }
}
