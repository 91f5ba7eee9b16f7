//! Converters from third-party weight files to ONNX models.
//!
//! The pieces, bottom-up:
//!
//! * [`pickle`]: a reader for the small subset of Python's pickle format
//!   (protocol 2) that PyTorch's legacy serialisation emits. It builds plain
//!   values and never executes anything: class references resolve only
//!   against a fixed allow-list and calls are kept as inert descriptions.
//! * [`torch_legacy`]: parses a legacy (non-zip) `.pth` checkpoint into a
//!   [`StateDict`] of `f32` tensors.
//! * [`onnx`]: the ONNX writer of the `paddle2onnx` crate (protobuf messages
//!   and [`GraphBuilder`], a small API to assemble models, also used by tests
//!   to make fixture models), re-exported.
//! * [`efficientnet`]: builds the EfficientNet-Lite0 classifier graph from its
//!   PyTorch weights ([`efficientnet_lite0_to_onnx`]).

pub(crate) mod efficientnet;
pub(crate) mod onnx;
pub mod pickle;
pub mod torch_legacy;

pub use efficientnet::{efficientnet_lite0_to_onnx, efficientnet_lite0_to_onnx_with_metadata};
pub use torch_legacy::{load_legacy_state_dict, StateDict, Tensor};

/// Everything that can go wrong while reading weights or writing a model.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The pickle stream ended in the middle of an opcode or its argument.
    #[error("pickle: unexpected end of data at byte {offset}")]
    PickleTruncated {
        /// Byte offset (from the start of the file) where more data was needed.
        offset: usize,
    },
    /// An opcode outside the supported subset was found.
    #[error(
        "pickle: opcode {name} (0x{code:02x}) at byte {offset} is not supported by this reader"
    )]
    PickleOpcode {
        /// Python's name for the opcode (e.g. `INST`), or `UNKNOWN`.
        name: &'static str,
        /// The opcode byte.
        code: u8,
        /// Byte offset of the opcode.
        offset: usize,
    },
    /// A `GLOBAL` referred to something outside the allow-list.
    #[error("pickle: global `{module}.{name}` at byte {offset} is not allowed")]
    PickleGlobal {
        /// Module part of the reference.
        module: String,
        /// Attribute part of the reference.
        name: String,
        /// Byte offset of the `GLOBAL` opcode.
        offset: usize,
    },
    /// The pickle uses supported opcodes in an inconsistent way.
    #[error("pickle: malformed stream at byte {offset}: {reason}")]
    PickleMalformed {
        /// Byte offset of the offending opcode.
        offset: usize,
        /// What was wrong.
        reason: String,
    },
    /// The input is a zip-format (PyTorch >= 1.6 default) checkpoint.
    #[error(
        "checkpoint is a zip-format PyTorch file; only the legacy (non-zip) format is supported"
    )]
    ZipCheckpoint,
    /// The legacy checkpoint layout is not what PyTorch writes.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// A tensor record in the checkpoint is unusable.
    #[error("checkpoint tensor `{name}`: {reason}")]
    Tensor {
        /// State-dict key of the tensor.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// The state dict lacks a tensor the architecture needs.
    #[error("state dict has no tensor `{0}`")]
    MissingTensor(String),
    /// A tensor exists but has the wrong shape for the architecture.
    #[error("tensor `{name}` has shape {actual:?}, expected {expected:?}")]
    ShapeMismatch {
        /// State-dict key of the tensor.
        name: String,
        /// Shape the architecture requires.
        expected: Vec<usize>,
        /// Shape found in the checkpoint.
        actual: Vec<usize>,
    },
    /// The state dict has tensors the architecture does not use, which means
    /// the file is not the model we think it is.
    #[error("state dict has {} unexpected tensor(s), e.g. `{}`", .0.len(), .0.first().map(String::as_str).unwrap_or(""))]
    UnusedTensors(Vec<String>),
    /// The ONNX graph under construction is inconsistent.
    #[error("ONNX graph: {0}")]
    Graph(String),
}

impl From<onnx::GraphError> for ConvertError {
    fn from(e: onnx::GraphError) -> Self {
        ConvertError::Graph(e.0)
    }
}
