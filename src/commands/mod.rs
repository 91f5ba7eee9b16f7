//! The things the binary can do, one module each.

pub mod list_models;
pub mod paddle2onnx;
pub mod pipeline_config;
pub mod predict;
pub mod serve;
