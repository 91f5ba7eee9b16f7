//! `<stem>_res.json` exactly as PaddleX writes it: `json.dump(d, indent=4,
//! ensure_ascii=False)`, no trailing newline, float32 scores as the repr of
//! their exact double.

use super::pyfloat::repr_f64;
use super::Classification;

/// The five fields of a result, each already written as JSON, in PaddleX's key order.
/// `input_path` is written as given (`null` when `None`).
fn fields(res: &Classification, input_path: Option<&str>) -> [(&'static str, Vec<String>); 5] {
    let page = res.page_index.map_or("null".to_string(), |p| p.to_string());
    let shown = input_path.map_or("null".to_string(), json_string);
    [
        ("input_path", vec![shown]),
        ("page_index", vec![page]),
        (
            "class_ids",
            res.class_ids.iter().map(i32::to_string).collect(),
        ),
        (
            "scores",
            res.scores.iter().map(|s| repr_f64(f64::from(*s))).collect(),
        ),
        (
            "label_names",
            res.label_names.iter().map(|l| json_string(l)).collect(),
        ),
    ]
}

/// Whether a field holds a list (the others hold one scalar).
fn is_list(key: &str) -> bool {
    !matches!(key, "input_path" | "page_index")
}

/// The JSON text of one result.
pub fn result_json(res: &Classification) -> String {
    result_json_as(res, Some(&res.input_path))
}

/// [`result_json`] with `input_path` written as given: `null` for an image
/// that came from memory (PaddleX writes `"input_path": null` for arrays).
pub fn result_json_as(res: &Classification, input_path: Option<&str>) -> String {
    let body: Vec<String> = fields(res, input_path)
        .iter()
        .map(|(key, items)| {
            let value = if is_list(key) {
                json_list(items)
            } else {
                items.concat()
            };
            format!("    \"{key}\": {value}")
        })
        .collect();
    format!("{{\n{}\n}}", body.join(",\n"))
}

/// The result on one line (`--format jsonl`), Python's `json.dumps` spacing.
pub fn compact_json(res: &Classification) -> String {
    let body: Vec<String> = fields(res, Some(&res.input_path))
        .iter()
        .map(|(key, items)| {
            let value = if is_list(key) {
                format!("[{}]", items.join(", "))
            } else {
                items.concat()
            };
            format!("\"{key}\": {value}")
        })
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// A list at indent level 1, one item per line (`[]` when empty, like Python).
fn json_list(items: &[String]) -> String {
    if items.is_empty() {
        return "[]".into();
    }
    let body: Vec<String> = items.iter().map(|i| format!("        {i}")).collect();
    format!("[\n{}\n    ]", body.join(",\n"))
}

/// A JSON string as Python's encoder writes it with `ensure_ascii=False`.
fn json_string(text: &str) -> String {
    let mut out = String::new();
    write_str(&mut out, text, false);
    out
}

/// Appends a JSON string literal, escaped like Python's encoder.
pub fn write_str(out: &mut String, text: &str, ensure_ascii: bool) {
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
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
