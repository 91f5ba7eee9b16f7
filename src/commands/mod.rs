//! The things the binary can do, one module each.

pub mod list_models;
pub mod pipeline_config;
pub mod predict;
