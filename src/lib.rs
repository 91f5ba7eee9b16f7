//! paddlex-rs: PaddleX's `image_classification` pipeline as a native library
//! and CLI. The data flow, module by module:
//! [`input`] → [`imaging::decode`] → [`imaging::preprocess`] → [`runtime`] →
//! [`postprocess`] → [`result`] / [`visualize`] / [`output`], tied together
//! by [`pipeline`] and driven by [`commands`]; [`serve`] offers the same
//! pipeline over HTTP.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod app;
pub mod atomic_file;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit_codes;
pub mod imaging;
pub mod input;
pub mod log;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod postprocess;
pub mod provision;
pub mod pyfmt;
pub(crate) mod quiet_panic;
pub mod report;
pub mod result;
pub mod runtime;
pub mod serve;
pub mod setup;
pub mod stop;
pub mod visualize;
