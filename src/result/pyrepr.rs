//! The printed result line: Python's `str({'res': {...}})` with numpy arrays
//! shown in full (`array([...], dtype=int32)`).

use super::Classification;
use crate::pyfmt::float::{numpy_float_array, numpy_int_array};

/// `{'res': {'input_path': ..., 'page_index': ..., 'class_ids': array(...), 'scores': array(...), 'label_names': [...]}}`
pub(crate) fn result_line(res: &Classification) -> String {
    result_line_as(res, Some(&res.input_path))
}

/// [`result_line`] with `input_path` shown as given: `None` for an image
/// that came from memory (PaddleX prints `'input_path': None` for arrays).
pub fn result_line_as(res: &Classification, input_path: Option<&str>) -> String {
    let shown = input_path.map_or("None".to_string(), py_str_repr);
    let page = res.page_index.map_or("None".to_string(), |p| p.to_string());
    let labels: Vec<String> = res.label_names.iter().map(|l| py_str_repr(l)).collect();
    format!(
        "{{'res': {{'input_path': {}, 'page_index': {}, 'class_ids': {}, 'scores': {}, 'label_names': [{}]}}}}",
        shown,
        page,
        numpy_int_array(&res.class_ids),
        numpy_float_array(&res.scores),
        labels.join(", ")
    )
}

/// Python's `repr()` of a str: single quotes unless the text has a single
/// quote and no double quote; backslash escapes for the quote, backslash and
/// non-printable characters.
pub(crate) fn py_str_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_paddlex_line_with_full_arrays() {
        let res = Classification {
            input_path: "dev/chelsea.png".into(),
            page_index: None,
            class_ids: vec![282, 285, 281, 287, 904],
            scores: vec![0.38878, 0.35908, 0.16275, 0.0197, 0.00133],
            label_names: [
                "tiger cat",
                "Egyptian cat",
                "tabby, tabby cat",
                "lynx, catamount",
                "window screen",
            ]
            .map(String::from)
            .to_vec(),
        };
        assert_eq!(
            result_line(&res),
            "{'res': {'input_path': 'dev/chelsea.png', 'page_index': None, 'class_ids': array([282, 285, 281, 287, 904], dtype=int32), 'scores': array([0.38878, 0.35908, 0.16275, 0.0197 , 0.00133], dtype=float32), 'label_names': ['tiger cat', 'Egyptian cat', 'tabby, tabby cat', 'lynx, catamount', 'window screen']}}"
        );
        assert!(result_line_as(&res, None).starts_with(
            "{'res': {'input_path': None, 'page_index': None, 'class_ids': array([282,"
        ));
    }

    #[test]
    fn python_string_quoting() {
        assert_eq!(py_str_repr("a"), "'a'");
        assert_eq!(
            py_str_repr("devil's darning needle"),
            "\"devil's darning needle\""
        );
        assert_eq!(py_str_repr("both ' and \""), "'both \\' and \"'");
        assert_eq!(py_str_repr("a\\b\n"), "'a\\\\b\\n'");
        assert_eq!(py_str_repr("猫"), "'猫'");
    }
}
