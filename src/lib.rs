//! paddlex-rs: PaddleX's `image_classification` pipeline as a native library and CLI.

pub mod image;
