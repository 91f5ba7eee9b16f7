//! The things the binary can do, one module each.

pub mod pipeline_config;
pub mod predict;
