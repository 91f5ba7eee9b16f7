//! ONNX Runtime: finding and loading the shared library, devices, and the
//! classifier session.

pub mod device;
pub mod gpu;
pub mod hpi;
pub mod library;
pub mod plan;
pub mod session;

pub use device::Device;
pub use plan::{Backend, ExecutionPlan};
pub use session::{Classifier, RuntimeError};
