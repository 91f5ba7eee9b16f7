//! Image decoding and preprocessing.
pub mod resize;
