//! Model directories: where a model comes from (a local `model_dir` or the
//! official cache), what its `inference.yml` says, its labels, the registry of
//! known model names, fetching PaddleX's official models, and the converters
//! that build ONNX models.

pub mod convert;
pub(crate) mod infer_config;
pub(crate) mod official;
pub(crate) mod paddle;
pub mod registry;
pub mod resolve;

pub use infer_config::InferenceConfig;
pub use resolve::{resolve_model, ModelDir, ModelError};
