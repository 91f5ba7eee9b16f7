//! paddlex-rs: PaddleX's `image_classification` pipeline as a native library
//! and CLI. The data flow, module by module:
//! [`input`] → [`imaging::decode`] → [`imaging::preprocess`] → [`runtime`] →
//! [`postprocess`] → [`result`] / [`visualize`] / [`output`], tied together
//! by [`pipeline`] after [`setup`]; the commands (predict, serve, …) and the
//! HTTP server are internal to the binary.
//!
//! The library API (what the binary's `main`, the Python binding, the
//! integration tests and the benches use; everything else is `pub(crate)`):
//! - set up and run: [`setup::load`] / [`setup::load_config`] →
//!   [`pipeline::Pipeline`] (`with_plan`, `run`) over [`input::Unit`]s →
//!   [`pipeline::Outcome`]s holding [`result::Classification`]s;
//! - show and save them as PaddleX does: [`result::pyrepr`], [`result::json`],
//!   [`output`] (paths, JSON, the visualisation);
//! - the exact stages on their own: [`imaging::decode`] (`cv2.imread`'s
//!   pixels), [`imaging::preprocess`], [`imaging::resize`], [`runtime`]
//!   (ONNX Runtime sessions), [`model::resolve_model`].

#![deny(unsafe_op_in_unsafe_fn)]

pub mod app;
pub(crate) mod atomic_file;
pub(crate) mod cache;
pub(crate) mod cli;
pub(crate) mod commands;
pub mod config;
pub(crate) mod exit_codes;
pub mod imaging;
pub mod input;
pub mod log;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod postprocess;
pub(crate) mod provision;
pub(crate) mod pyfmt;
pub(crate) mod quiet_panic;
pub(crate) mod report;
pub mod result;
pub mod runtime;
pub(crate) mod serve;
pub mod setup;
pub mod stop;
pub mod visualize;
