//! ONNX Runtime: finding and loading the shared library, devices, and the
//! classifier session.

pub(crate) mod batch;
pub(crate) mod device;
pub mod gpu;
pub mod hpi;
pub mod library;
pub(crate) mod load;
pub(crate) mod plan;
pub(crate) mod session;
pub(crate) mod threads;

pub(crate) use device::Device;
pub use plan::{Backend, ExecutionPlan};
pub use session::{Classifier, RuntimeError};
