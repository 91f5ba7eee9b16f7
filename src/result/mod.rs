//! One image's result, and the two ways PaddleX shows it: the printed line
//! and `<stem>_res.json`.

pub mod json;
pub mod pyrepr;

/// PaddleX's `TopkResult` without the image: what is printed and saved.
/// Serializes with PaddleX's keys, in PaddleX's order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Classification {
    /// The input as given (or the local copy of a URL).
    pub input_path: String,
    /// Page of a multi-page input; `None` for plain images.
    pub page_index: Option<usize>,
    /// Class ids, best first.
    pub class_ids: Vec<i32>,
    /// Scores, float32 rounded to 5 decimals.
    pub scores: Vec<f32>,
    /// Label of each id.
    pub label_names: Vec<String>,
}
