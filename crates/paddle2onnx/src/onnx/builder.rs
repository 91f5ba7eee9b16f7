//! [`GraphBuilder`]: assembles an ONNX model node by node.

use std::collections::HashSet;
use std::io::{self, Write};

use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;

use super::proto::{
    attribute_type, data_type, tensor_shape_proto, type_proto, AttributeProto, GraphProto,
    ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A mistake in the graph under construction (a value defined twice, read
/// before it is defined, an initializer whose data does not match its dims).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ONNX graph: {0}")]
pub struct GraphError(pub String);

/// Element type of a graph input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// 32-bit float.
    Float,
    /// Unsigned 8-bit integer.
    Uint8,
    /// Signed 8-bit integer.
    Int8,
    /// Signed 32-bit integer.
    Int32,
    /// Signed 64-bit integer.
    Int64,
    /// UTF-8 string.
    String,
    /// Boolean.
    Bool,
    /// Half-precision float.
    Float16,
    /// 64-bit float.
    Double,
}

impl DataType {
    /// Size of one element in bytes (`None` for strings).
    pub fn size(self) -> Option<usize> {
        match self {
            DataType::Uint8 | DataType::Int8 | DataType::Bool => Some(1),
            DataType::Float16 => Some(2),
            DataType::Float | DataType::Int32 => Some(4),
            DataType::Int64 | DataType::Double => Some(8),
            DataType::String => None,
        }
    }

    /// The `TensorProto.DataType` code.
    pub fn code(self) -> i32 {
        match self {
            DataType::Float => data_type::FLOAT,
            DataType::Uint8 => data_type::UINT8,
            DataType::Int8 => data_type::INT8,
            DataType::Int32 => data_type::INT32,
            DataType::Int64 => data_type::INT64,
            DataType::String => data_type::STRING,
            DataType::Bool => data_type::BOOL,
            DataType::Float16 => data_type::FLOAT16,
            DataType::Double => data_type::DOUBLE,
        }
    }
}

/// One dimension of a graph input/output shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim<'a> {
    /// A fixed size.
    Fixed(i64),
    /// A symbolic size, e.g. `"N"` for the batch.
    Param(&'a str),
}

/// A node attribute, made with the typed constructors.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr(AttributeProto);

impl Attr {
    fn base(name: &str, kind: i32) -> AttributeProto {
        AttributeProto {
            name: name.to_owned(),
            r#type: Some(kind),
            ..Default::default()
        }
    }

    /// An integer attribute, e.g. `Attr::int("transB", 1)`.
    pub fn int(name: &str, value: i64) -> Self {
        Attr(AttributeProto {
            i: Some(value),
            ..Self::base(name, attribute_type::INT)
        })
    }

    /// A list-of-integers attribute, e.g. `Attr::ints("strides", &[2, 2])`.
    pub fn ints(name: &str, values: &[i64]) -> Self {
        Attr(AttributeProto {
            ints: values.to_vec(),
            ..Self::base(name, attribute_type::INTS)
        })
    }

    /// A float attribute, e.g. `Attr::float("epsilon", 1e-5)`.
    pub fn float(name: &str, value: f32) -> Self {
        Attr(AttributeProto {
            f: Some(value),
            ..Self::base(name, attribute_type::FLOAT)
        })
    }

    /// A list-of-floats attribute.
    pub fn floats(name: &str, values: &[f32]) -> Self {
        Attr(AttributeProto {
            floats: values.to_vec(),
            ..Self::base(name, attribute_type::FLOATS)
        })
    }

    /// A string attribute, e.g. `Attr::string("mode", "linear")`.
    pub fn string(name: &str, value: &str) -> Self {
        Attr(AttributeProto {
            s: Some(value.as_bytes().to_vec()),
            ..Self::base(name, attribute_type::STRING)
        })
    }

    /// A list-of-strings attribute.
    pub fn strings(name: &str, values: &[&str]) -> Self {
        Attr(AttributeProto {
            strings: values.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Self::base(name, attribute_type::STRINGS)
        })
    }

    /// The protobuf message.
    pub fn proto(&self) -> &AttributeProto {
        &self.0
    }
}

/// Builds an ONNX model: declare inputs, initializers and nodes in
/// topological order, outputs, then [`finish`](GraphBuilder::finish).
///
/// Mistakes (an initializer whose data does not match its dims, a value name
/// defined twice, a node reading a value not defined before it, an output
/// nothing produces) are reported by `finish`/`build` as
/// [`GraphError`], so the calls themselves chain without `?`.
///
/// ```
/// use paddle2onnx::onnx::{Attr, DataType, Dim, GraphBuilder};
///
/// let mut g = GraphBuilder::new("tiny");
/// g.input("x", DataType::Float, &[Dim::Param("N"), Dim::Fixed(3)]);
/// g.initializer("w", &[2, 3], &[1., 0., 0., 0., 1., 0.]);
/// g.node("Gemm", &["x", "w"], &["logits"], &[Attr::int("transB", 1)]);
/// g.node("Softmax", &["logits"], &["y"], &[Attr::int("axis", 1)]);
/// g.output("y", DataType::Float, &[Dim::Param("N"), Dim::Fixed(2)]);
/// let bytes = g.finish(13, &[("labels", "a\nb")]).unwrap();
/// assert!(!bytes.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    graph: GraphProto,
    /// The first mistake made, reported by `build`.
    error: Option<String>,
}

impl GraphBuilder {
    /// Starts an empty graph called `name`.
    pub fn new(name: &str) -> Self {
        GraphBuilder {
            graph: GraphProto {
                name: name.to_owned(),
                ..Default::default()
            },
            error: None,
        }
    }

    fn fail(&mut self, message: String) {
        self.error.get_or_insert(message);
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: DataType, shape: &[Dim<'_>]) -> &mut Self {
        self.graph.input.push(value_info(name, elem, shape));
        self
    }

    /// Declares a graph output; it must be produced by a node or be an input
    /// or initializer.
    pub fn output(&mut self, name: &str, elem: DataType, shape: &[Dim<'_>]) -> &mut Self {
        self.graph.output.push(value_info(name, elem, shape));
        self
    }

    /// Adds a constant `f32` tensor (row-major `data`; `dims` empty for a scalar).
    pub fn initializer(&mut self, name: &str, dims: &[i64], data: &[f32]) -> &mut Self {
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push_initializer(name, dims, data.len(), DataType::Float, raw)
    }

    /// Adds a constant `i64` tensor (e.g. a shape for `Reshape`).
    pub fn initializer_i64(&mut self, name: &str, dims: &[i64], data: &[i64]) -> &mut Self {
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.push_initializer(name, dims, data.len(), DataType::Int64, raw)
    }

    /// Adds a constant tensor from its little-endian bytes, row-major (the
    /// bytes are moved, not copied).
    pub fn initializer_raw(
        &mut self,
        name: &str,
        dims: &[i64],
        elem: DataType,
        raw: Vec<u8>,
    ) -> &mut Self {
        let len = match elem.size() {
            Some(size) if raw.len().is_multiple_of(size) => raw.len() / size,
            _ => {
                self.fail(format!(
                    "initializer `{name}`: {} bytes are not whole {elem:?} elements",
                    raw.len()
                ));
                return self;
            }
        };
        self.push_initializer(name, dims, len, elem, raw)
    }

    /// How many nodes the graph has so far.
    pub fn node_count(&self) -> usize {
        self.graph.node.len()
    }

    fn push_initializer(
        &mut self,
        name: &str,
        dims: &[i64],
        len: usize,
        elem: DataType,
        raw: Vec<u8>,
    ) -> &mut Self {
        let expected = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?));
        if expected != u64::try_from(len).ok() {
            self.fail(format!(
                "initializer `{name}`: dims {dims:?} do not match {len} element(s)"
            ));
        }
        self.graph.initializer.push(TensorProto {
            dims: dims.to_vec(),
            data_type: Some(elem.code()),
            name: name.to_owned(),
            raw_data: raw,
            ..Default::default()
        });
        self
    }

    /// Appends a node of the default (`ai.onnx`) domain. Use `""` for an
    /// omitted optional input.
    pub fn node(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: &[Attr],
    ) -> &mut Self {
        let index = self.graph.node.len();
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: outputs.iter().map(|s| (*s).to_owned()).collect(),
            name: format!("{op_type}_{index}"),
            op_type: op_type.to_owned(),
            attribute: attrs.iter().map(|a| a.0.clone()).collect(),
            ..Default::default()
        });
        self
    }

    /// Checks the graph and wraps it in a model importing the default domain
    /// at `opset`, with `metadata` as `metadata_props` (key, value) pairs.
    pub fn build(self, opset: i64, metadata: &[(&str, &str)]) -> Result<ModelProto, GraphError> {
        if let Some(message) = self.error {
            return Err(GraphError(message));
        }
        check_graph(&self.graph)?;
        if !(1..=i64::from(u16::MAX)).contains(&opset) {
            return Err(GraphError(format!("opset {opset} is out of range")));
        }
        Ok(ModelProto {
            ir_version: Some(ir_version_for(opset)),
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: Some(opset),
            }],
            producer_name: env!("CARGO_PKG_NAME").to_owned(),
            producer_version: env!("CARGO_PKG_VERSION").to_owned(),
            graph: Some(self.graph),
            metadata_props: metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto {
                    key: (*k).to_owned(),
                    value: (*v).to_owned(),
                })
                .collect(),
            ..Default::default()
        })
    }

    /// [`build`](GraphBuilder::build), then serialise to ONNX bytes.
    pub fn finish(self, opset: i64, metadata: &[(&str, &str)]) -> Result<Vec<u8>, GraphError> {
        Ok(self.build(opset, metadata)?.encode_to_vec())
    }

    /// [`build`](GraphBuilder::build), then write the serialised model to
    /// `out` piece by piece: the same model as [`finish`](GraphBuilder::finish)
    /// (fields in another order) without a second copy of the weights in memory.
    pub fn write_to(
        self,
        opset: i64,
        metadata: &[(&str, &str)],
        out: &mut impl Write,
    ) -> Result<(), WriteError> {
        let mut model = self.build(opset, metadata)?;
        let graph = model.graph.take().unwrap_or_default();
        // ModelProto without its graph, then the graph field (tag 7) by hand:
        // prost writes fields in tag order, and protobuf readers accept any order.
        out.write_all(&model.encode_to_vec())?;
        let mut head = Vec::new();
        encode_key(7, WireType::LengthDelimited, &mut head);
        encode_varint(graph.encoded_len() as u64, &mut head);
        out.write_all(&head)?;
        let GraphProto {
            node,
            name,
            initializer,
            doc_string,
            input,
            output,
            value_info,
        } = graph;
        let rest = GraphProto {
            name,
            doc_string,
            input,
            output,
            value_info,
            ..Default::default()
        };
        write_repeated(1, &node, out)?;
        write_repeated(5, &initializer, out)?;
        out.write_all(&rest.encode_to_vec())?;
        Ok(())
    }
}

/// Why [`GraphBuilder::write_to`] failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The graph is inconsistent.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes each message of a repeated field as its own length-delimited
/// record, so only one element is encoded in memory at a time.
fn write_repeated<M: Message>(tag: u32, items: &[M], out: &mut impl Write) -> io::Result<()> {
    let mut buf = Vec::new();
    for item in items {
        buf.clear();
        encode_key(tag, WireType::LengthDelimited, &mut buf);
        encode_varint(item.encoded_len() as u64, &mut buf);
        item.encode(&mut buf).map_err(io::Error::other)?;
        out.write_all(&buf)?;
    }
    Ok(())
}

/// The lowest IR version that supports `opset` of the default domain, so
/// that older runtimes accept the model.
fn ir_version_for(opset: i64) -> i64 {
    match opset {
        ..=13 => 7,
        14..=18 => 8,
        19..=20 => 9,
        21..=22 => 10,
        _ => 11,
    }
}

fn value_info(name: &str, elem: DataType, shape: &[Dim<'_>]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Dim::Fixed(n) => tensor_shape_proto::dimension::Value::DimValue(*n),
                Dim::Param(p) => tensor_shape_proto::dimension::Value::DimParam((*p).to_owned()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem.code()),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Single definition of every value, definition before use, outputs defined.
fn check_graph(graph: &GraphProto) -> Result<(), GraphError> {
    let mut defined: HashSet<&str> = HashSet::new();
    let sources = graph
        .input
        .iter()
        .map(|v| (v.name.as_str(), "input"))
        .chain(
            graph
                .initializer
                .iter()
                .map(|t| (t.name.as_str(), "initializer")),
        );
    for (name, what) in sources {
        non_empty(name, what)?;
        if !defined.insert(name) {
            return Err(GraphError(format!("`{name}` is defined twice")));
        }
    }
    for node in &graph.node {
        for input in node.input.iter().filter(|i| !i.is_empty()) {
            if !defined.contains(input.as_str()) {
                return Err(GraphError(format!(
                    "node {} ({}) reads `{input}`, which is not defined before it",
                    node.name, node.op_type
                )));
            }
        }
        for output in &node.output {
            non_empty(output, "node output")?;
            if !defined.insert(output.as_str()) {
                return Err(GraphError(format!("`{output}` is defined twice")));
            }
        }
    }
    for output in &graph.output {
        if !defined.contains(output.name.as_str()) {
            return Err(GraphError(format!(
                "graph output `{}` is not produced",
                output.name
            )));
        }
    }
    Ok(())
}

fn non_empty(name: &str, what: &str) -> Result<(), GraphError> {
    if name.is_empty() {
        return Err(GraphError(format!("{what} has an empty name")));
    }
    Ok(())
}
