//! Image decoding and preprocessing.

pub mod decode;
pub mod preprocess;
pub mod resize;
