//! Python's `json.dump`/`json.dumps` output as a `serde_json` formatter:
//! floats as Python's `repr` (a float32 as the repr of its exact double,
//! which is what PaddleX's `float(np.float32)` values print as), Python's
//! separators, optional indentation, and `ensure_ascii`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

use super::float::repr_f64;

/// How Python was asked to write the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Style {
    /// `indent=N`: one item per line, nested by N spaces.
    pub indent: Option<usize>,
    /// Escape every character outside printable ASCII as `\uXXXX`
    /// (`ensure_ascii=True`).
    pub ensure_ascii: bool,
    /// `separators=(",", ":")` instead of Python's `(", ", ": ")`.
    pub compact: bool,
}

/// `json.dump(d, f, indent=4, ensure_ascii=False)`: PaddleX's `<stem>_res.json`.
pub(crate) const INDENTED: Style = Style {
    indent: Some(4),
    ensure_ascii: false,
    compact: false,
};

/// `json.dumps(d, ensure_ascii=False)`: one result per line (`--format jsonl`).
pub(crate) const LINE: Style = Style {
    indent: None,
    ensure_ascii: false,
    compact: false,
};

/// `json.dumps(value)` with Python's defaults (ASCII only, `", "` and `": "`).
pub(crate) const DUMPS_DEFAULT: Style = Style {
    indent: None,
    ensure_ascii: true,
    compact: false,
};

/// `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`: how FastAPI
/// writes response bodies.
pub(crate) const RESPONSE: Style = Style {
    indent: None,
    ensure_ascii: false,
    compact: true,
};

/// `value` as Python would write it with `style`.
pub(crate) fn to_string<T: Serialize + ?Sized>(value: &T, style: Style) -> String {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter::new(style));
    // Writing to a Vec cannot fail, and the values written here (derived
    // structs, strings, numbers, `serde_json::Value`) always serialize.
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    // The formatter writes only UTF-8 (escapes are ASCII).
    String::from_utf8(out).unwrap_or_default()
}

/// The formatter behind [`to_string`].
#[derive(Debug, Clone)]
pub(crate) struct PyFormatter {
    style: Style,
    level: usize,
    has_value: bool,
}

impl PyFormatter {
    /// A formatter writing as `style` says.
    pub(crate) fn new(style: Style) -> Self {
        PyFormatter {
            style,
            level: 0,
            has_value: false,
        }
    }

    fn newline_indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        if let Some(width) = self.style.indent {
            w.write_all(b"\n")?;
            for _ in 0..self.level * width {
                w.write_all(b" ")?;
            }
        }
        Ok(())
    }

    /// Before the second and later items of an array or object.
    fn item_separator<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            let sep: &[u8] = if self.style.compact || self.style.indent.is_some() {
                b","
            } else {
                b", "
            };
            w.write_all(sep)?;
        }
        self.newline_indent(w)
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        // Python writes an empty container as `[]` / `{}` even with indent.
        if self.has_value {
            self.newline_indent(w)?;
        }
        w.write_all(bracket)
    }
}

impl Formatter for PyFormatter {
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        w.write_all(repr_f64(f64::from(value)).as_bytes())
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(repr_f64(value).as_bytes())
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !self.style.ensure_ascii {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            // Python's ensure_ascii escapes all but ' '..='~'.
            if (' '..='~').contains(&c) {
                continue;
            }
            w.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(w, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item_separator(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item_separator(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.style.compact { b":" } else { b": " })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Each expected text is what CPython 3.11's `json.dumps` writes.
    #[test]
    fn writes_what_python_writes() {
        let v = json!({"a": [1, 2.5, 1e-5, 1e16], "b": {}, "c": [], "d": "é\"\u{7f}\n", "e": null});
        assert_eq!(
            to_string(&v, DUMPS_DEFAULT),
            r#"{"a": [1, 2.5, 1e-05, 1e+16], "b": {}, "c": [], "d": "\u00e9\"\u007f\n", "e": null}"#
        );
        assert_eq!(
            to_string(&v, RESPONSE),
            "{\"a\":[1,2.5,1e-05,1e+16],\"b\":{},\"c\":[],\"d\":\"é\\\"\u{7f}\\n\",\"e\":null}"
        );
        assert_eq!(
            to_string(&json!({"k": [[1], {"x": "猫😀"}], "z": []}), INDENTED),
            "{\n    \"k\": [\n        [\n            1\n        ],\n        {\n            \"x\": \"猫😀\"\n        }\n    ],\n    \"z\": []\n}"
        );
        assert_eq!(
            to_string("😀\u{1}", DUMPS_DEFAULT),
            r#""\ud83d\ude00\u0001""#
        );
        assert_eq!(to_string(&0.1f32, LINE), "0.10000000149011612");
        assert_eq!(to_string(&1.0f64, LINE), "1.0");
    }

    #[test]
    fn dumps_like_python() {
        let v = json!({"type": "missing", "loc": ["body", "image"], "input": {"topk": 2, "x": 1e-5, "é": "猫\n"}});
        assert_eq!(
            to_string(&v, DUMPS_DEFAULT),
            r#"{"type": "missing", "loc": ["body", "image"], "input": {"topk": 2, "x": 1e-05, "\u00e9": "\u732b\n"}}"#
        );
        assert_eq!(to_string(&v, RESPONSE), "{\"type\":\"missing\",\"loc\":[\"body\",\"image\"],\"input\":{\"topk\":2,\"x\":1e-05,\"é\":\"猫\\n\"}}");
        assert_eq!(to_string(&json!("😀"), DUMPS_DEFAULT), r#""\ud83d\ude00""#);
        assert_eq!(to_string(&json!(2.0), DUMPS_DEFAULT), "2.0");
    }
}
