//! Model directories, registry, provisioning and converters.

pub mod convert;
