//! The part of Paddle's `framework.proto` (`paddle/fluid/framework/`) that a
//! legacy inference program (`inference.pdmodel`) needs, as `prost` messages.
//!
//! The schema is proto2: scalar fields whose zero matters are `Option`s, and
//! repeated numbers are declared unpacked as the schema does (decoding
//! accepts both encodings). Fields the converter never reads are left out;
//! decoding skips them. `VarType.dense_tensor` is the same field, with the
//! same layout, as the `lod_tensor` of Paddle releases before 3.0.

/// `AttrType`: which value field of an [`Attr`] is set.
pub mod attr_type {
    /// `i`.
    pub const INT: i32 = 0;
    /// `f`.
    pub const FLOAT: i32 = 1;
    /// `s`.
    pub const STRING: i32 = 2;
    /// `ints`.
    pub const INTS: i32 = 3;
    /// `floats`.
    pub const FLOATS: i32 = 4;
    /// `strings`.
    pub const STRINGS: i32 = 5;
    /// `b`.
    pub const BOOLEAN: i32 = 6;
    /// `bools`.
    pub const BOOLEANS: i32 = 7;
    /// `block_idx`.
    pub const BLOCK: i32 = 8;
    /// `l`.
    pub const LONG: i32 = 9;
    /// `blocks_idx`.
    pub const BLOCKS: i32 = 10;
    /// `longs`.
    pub const LONGS: i32 = 11;
    /// `float64s`.
    pub const FLOAT64S: i32 = 12;
    /// `var_name`.
    pub const VAR: i32 = 13;
    /// `vars_name`.
    pub const VARS: i32 = 14;
    /// `float64`.
    pub const FLOAT64: i32 = 15;
    /// `scalar`.
    pub const SCALAR: i32 = 16;
    /// `scalars`.
    pub const SCALARS: i32 = 17;
}

/// `VarType.Type` codes of variables that are not plain element types.
pub mod var_type {
    /// A dense tensor (`LOD_TENSOR` before Paddle 3).
    pub const DENSE_TENSOR: i32 = 7;
    /// The `feed` variable.
    pub const FEED_MINIBATCH: i32 = 9;
    /// The `fetch` variable.
    pub const FETCH_LIST: i32 = 10;
    /// Raw bytes (never a parameter).
    pub const RAW: i32 = 17;
}

/// `Scalar.Type` codes.
pub mod scalar_type {
    /// `b`.
    pub const BOOLEAN: i32 = 1;
    /// `i`.
    pub const LONG: i32 = 2;
    /// `r`.
    pub const FLOAT64: i32 = 3;
    /// `c`.
    pub const COMPLEX128: i32 = 4;
}

/// A whole program: block 0 is the graph.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProgramDesc {
    /// Blocks; sub-blocks belong to control-flow operators.
    #[prost(message, repeated, tag = "1")]
    pub blocks: Vec<BlockDesc>,
    /// The writer's version.
    #[prost(message, optional, tag = "4")]
    pub version: Option<Version>,
}

/// `Version`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Version {
    /// E.g. `2003002` for Paddle 2.3.2.
    #[prost(int64, optional, tag = "1")]
    pub version: Option<i64>,
}

/// A block: its variables and its operators in execution order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BlockDesc {
    /// Block index (0 for the main block).
    #[prost(int32, required, tag = "1")]
    pub idx: i32,
    /// Parent block index (-1 for the main block).
    #[prost(int32, required, tag = "2")]
    pub parent_idx: i32,
    /// Variable declarations.
    #[prost(message, repeated, tag = "3")]
    pub vars: Vec<VarDesc>,
    /// Operators.
    #[prost(message, repeated, tag = "4")]
    pub ops: Vec<OpDesc>,
}

/// A variable declaration.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VarDesc {
    /// Variable name.
    #[prost(string, required, tag = "1")]
    pub name: String,
    /// Its type.
    #[prost(message, required, tag = "2")]
    pub r#type: VarType,
    /// Whether the weights file holds it.
    #[prost(bool, optional, tag = "3")]
    pub persistable: Option<bool>,
}

/// A variable's type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VarType {
    /// A `VarType.Type` code ([`var_type`], or an element type for scalars).
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    /// Set for dense tensors.
    #[prost(message, optional, tag = "3")]
    pub dense_tensor: Option<DenseTensorDesc>,
}

/// `VarType.DenseTensorDesc` (`LoDTensorDesc` before Paddle 3).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DenseTensorDesc {
    /// Element type and dims.
    #[prost(message, required, tag = "1")]
    pub tensor: TensorDesc,
    /// LoD levels (0 for everything a classifier uses).
    #[prost(int32, optional, tag = "2")]
    pub lod_level: Option<i32>,
}

/// `VarType.TensorDesc`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorDesc {
    /// Element type, a `VarType.Type` code.
    #[prost(int32, required, tag = "1")]
    pub data_type: i32,
    /// Dimensions; -1 is dynamic.
    #[prost(int64, repeated, packed = "false", tag = "2")]
    pub dims: Vec<i64>,
}

/// One operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OpDesc {
    /// Input slots.
    #[prost(message, repeated, tag = "1")]
    pub inputs: Vec<OpVar>,
    /// Output slots.
    #[prost(message, repeated, tag = "2")]
    pub outputs: Vec<OpVar>,
    /// Operator type, e.g. `conv2d`.
    #[prost(string, required, tag = "3")]
    pub r#type: String,
    /// Attributes.
    #[prost(message, repeated, tag = "4")]
    pub attrs: Vec<Attr>,
}

/// `OpDesc.Var`: one input or output slot and the variables bound to it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OpVar {
    /// Slot name, e.g. `X`.
    #[prost(string, required, tag = "1")]
    pub parameter: String,
    /// Variable names (empty: the slot is unused).
    #[prost(string, repeated, tag = "2")]
    pub arguments: Vec<String>,
}

/// `OpDesc.Attr`: `type` says which value field is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Attr {
    /// Attribute name.
    #[prost(string, required, tag = "1")]
    pub name: String,
    /// An [`attr_type`] code.
    #[prost(int32, required, tag = "2")]
    pub r#type: i32,
    /// `INT`.
    #[prost(int32, optional, tag = "3")]
    pub i: Option<i32>,
    /// `FLOAT`.
    #[prost(float, optional, tag = "4")]
    pub f: Option<f32>,
    /// `STRING`.
    #[prost(string, optional, tag = "5")]
    pub s: Option<String>,
    /// `INTS`.
    #[prost(int32, repeated, packed = "false", tag = "6")]
    pub ints: Vec<i32>,
    /// `FLOATS`.
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    /// `STRINGS`.
    #[prost(string, repeated, tag = "8")]
    pub strings: Vec<String>,
    /// `BOOLEAN`.
    #[prost(bool, optional, tag = "10")]
    pub b: Option<bool>,
    /// `BOOLEANS`.
    #[prost(bool, repeated, packed = "false", tag = "11")]
    pub bools: Vec<bool>,
    /// `BLOCK`.
    #[prost(int32, optional, tag = "12")]
    pub block_idx: Option<i32>,
    /// `LONG`.
    #[prost(int64, optional, tag = "13")]
    pub l: Option<i64>,
    /// `LONGS`.
    #[prost(int64, repeated, packed = "false", tag = "15")]
    pub longs: Vec<i64>,
    /// `FLOAT64S`.
    #[prost(double, repeated, packed = "false", tag = "16")]
    pub float64s: Vec<f64>,
    /// `VAR`.
    #[prost(string, optional, tag = "17")]
    pub var_name: Option<String>,
    /// `VARS`.
    #[prost(string, repeated, tag = "18")]
    pub vars_name: Vec<String>,
    /// `FLOAT64`.
    #[prost(double, optional, tag = "19")]
    pub float64: Option<f64>,
    /// `SCALAR`.
    #[prost(message, optional, tag = "20")]
    pub scalar: Option<Scalar>,
    /// `SCALARS`.
    #[prost(message, repeated, tag = "21")]
    pub scalars: Vec<Scalar>,
}

/// A `Scalar` attribute value; `type` says which field is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Scalar {
    /// A [`scalar_type`] code.
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    /// `BOOLEAN`.
    #[prost(bool, optional, tag = "2")]
    pub b: Option<bool>,
    /// `LONG`.
    #[prost(int64, optional, tag = "3")]
    pub i: Option<i64>,
    /// `FLOAT64`.
    #[prost(double, optional, tag = "4")]
    pub r: Option<f64>,
}
