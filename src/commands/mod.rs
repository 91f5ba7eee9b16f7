//! The things the binary can do, one module each.

pub(crate) mod list_models;
pub(crate) mod paddle2onnx;
pub(crate) mod pipeline_config;
pub mod predict;
pub(crate) mod serve;
