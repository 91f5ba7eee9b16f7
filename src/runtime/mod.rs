//! ONNX Runtime: finding and loading the shared library, devices, and the
//! classifier session.

pub mod device;
pub mod library;
pub mod session;

pub use device::Device;
pub use session::{Classifier, RuntimeError};
