//! `<stem>_res.json` exactly as PaddleX writes it: `json.dump(d, indent=4,
//! ensure_ascii=False)`, no trailing newline, float32 scores as the repr of
//! their exact double; and the same object on one line for `--format jsonl`.

use serde::Serialize;

use super::Classification;
use crate::pyfmt::json::{to_string, INDENTED, LINE};

/// A result with its `input_path` as shown (`None` for an image from memory).
#[derive(Serialize)]
struct Shown<'a> {
    input_path: Option<&'a str>,
    page_index: Option<usize>,
    class_ids: &'a [i32],
    scores: &'a [f32],
    label_names: &'a [String],
}

/// The JSON text of one result.
pub(crate) fn result_json(res: &Classification) -> String {
    result_json_as(res, Some(&res.input_path))
}

/// [`result_json`] with `input_path` written as given: `null` for an image
/// that came from memory (PaddleX writes `"input_path": null` for arrays).
pub(crate) fn result_json_as(res: &Classification, input_path: Option<&str>) -> String {
    let shown = Shown {
        input_path,
        page_index: res.page_index,
        class_ids: &res.class_ids,
        scores: &res.scores,
        label_names: &res.label_names,
    };
    to_string(&shown, INDENTED)
}

/// The result on one line (`--format jsonl`), Python's `json.dumps` spacing.
pub(crate) fn compact_json(res: &Classification) -> String {
    to_string(res, LINE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_layout_matches_paddlex() {
        let res = Classification {
            input_path: "imgs/b.jpg".into(),
            page_index: None,
            class_ids: vec![139, 676],
            scores: vec![0.27337, 0.10619],
            label_names: vec![
                "ruddy turnstone, Arenaria interpres".into(),
                "say \"hi\"\t猫".into(),
            ],
        };
        let expected = "{\n    \"input_path\": \"imgs/b.jpg\",\n    \"page_index\": null,\n    \"class_ids\": [\n        139,\n        676\n    ],\n    \"scores\": [\n        0.27336999773979187,\n        0.10619000345468521\n    ],\n    \"label_names\": [\n        \"ruddy turnstone, Arenaria interpres\",\n        \"say \\\"hi\\\"\\t猫\"\n    ]\n}";
        assert_eq!(result_json(&res), expected);
        let parsed: serde_json::Value = serde_json::from_str(&result_json(&res)).unwrap();
        assert_eq!(parsed["label_names"][1], "say \"hi\"\t猫");
        // An image from memory (the Python API's arrays): `null`, the rest unchanged.
        let in_memory = result_json_as(&res, None);
        assert_eq!(
            in_memory,
            expected.replace("\"imgs/b.jpg\"", "null"),
            "only input_path changes"
        );
    }

    #[test]
    fn compact_form_for_json_lines() {
        let res = Classification {
            input_path: "a.png".into(),
            page_index: Some(0),
            class_ids: vec![1, 2],
            scores: vec![0.5, 1e-5],
            label_names: vec!["x".into(), "y\"".into()],
        };
        assert_eq!(
            compact_json(&res),
            "{\"input_path\": \"a.png\", \"page_index\": 0, \"class_ids\": [1, 2], \"scores\": [0.5, 9.999999747378752e-06], \"label_names\": [\"x\", \"y\\\"\"]}"
        );
        let v: serde_json::Value = serde_json::from_str(&compact_json(&res)).unwrap();
        assert_eq!(v["label_names"][1], "y\"");
    }

    #[test]
    fn page_index_is_written_as_a_number() {
        let res = Classification {
            input_path: "d.pdf".into(),
            page_index: Some(2),
            class_ids: vec![],
            scores: vec![],
            label_names: vec![],
        };
        assert!(result_json(&res).contains("\"page_index\": 2,\n    \"class_ids\": [],"));
    }
}
