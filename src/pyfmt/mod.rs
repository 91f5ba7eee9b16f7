//! Python-compatible text: the bytes PaddleX's Python code writes. `float`
//! is Python's float `repr` and numpy's array printing; `json` is the
//! `json` module's output (separators, indentation, `ensure_ascii`) as one
//! `serde_json` formatter, behind every JSON text the program writes.

pub(crate) mod float;
pub(crate) mod json;
