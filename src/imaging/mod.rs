//! Image decoding and preprocessing.

pub mod decode;
pub mod jpeg;
pub mod preprocess;
pub mod resize;
