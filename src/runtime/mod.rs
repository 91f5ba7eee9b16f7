//! ONNX Runtime: finding and loading the shared library, devices, and the
//! classifier session.

pub mod batch;
pub mod device;
pub mod gpu;
pub mod hpi;
pub mod library;
pub mod load;
pub mod plan;
pub mod session;
pub mod threads;

pub use device::{Device, DeviceKind};
pub use plan::{Backend, ExecutionPlan};
pub use session::{Classifier, RuntimeError};
