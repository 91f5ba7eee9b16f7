//! Python's `json` module, the two parts the serving API shows to clients:
//! `json.dumps` output (PaddleX's error messages are `json.dumps` of a list,
//! FastAPI's bodies are `json.dumps` with compact separators) and
//! `json.loads`'s error position and message for a malformed body.

pub use crate::pyfmt::json::{write_str, Style, DUMPS_DEFAULT, RESPONSE};

/// Writes `value` the way Python's `json.dumps` would with `style`.
pub fn dumps(value: &serde_json::Value, style: Style) -> String {
    crate::pyfmt::json::to_string(value, style)
}

/// A `json.JSONDecodeError`: Python's message and the character offset it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in characters (not bytes), as Python's `e.pos`.
    pub pos: usize,
    /// Python's `e.msg`, e.g. `Expecting value`.
    pub msg: String,
}

/// Deepest nesting the error locator follows (Python itself stops near 1000).
const MAX_DEPTH: usize = 900;

/// Where and why Python's `json.loads` rejects `text`; `None` when it accepts it.
pub fn locate_error(text: &str) -> Option<DecodeError> {
    let chars: Vec<char> = text.chars().collect();
    let scanner = Scanner { s: &chars };
    let start = scanner.skip_ws(0);
    let result = scanner.value(start, 0).and_then(|end| {
        let end = scanner.skip_ws(end);
        if end == chars.len() {
            Ok(end)
        } else {
            Err(err(end, "Extra data"))
        }
    });
    result.err()
}

fn err(pos: usize, msg: &str) -> DecodeError {
    DecodeError {
        pos,
        msg: msg.to_string(),
    }
}

/// A recursive scanner following CPython's `json.scanner` / `json.decoder`.
struct Scanner<'a> {
    s: &'a [char],
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(' ' | '\t' | '\n' | '\r')) {
            i += 1;
        }
        i
    }

    fn starts_with(&self, i: usize, word: &str) -> bool {
        (i..).zip(word.chars()).all(|(j, c)| self.at(j) == Some(c))
    }

    /// Scans one value at `i`; returns the index after it.
    fn value(&self, i: usize, depth: usize) -> Result<usize, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(err(i, "Maximum nesting depth exceeded"));
        }
        match self.at(i) {
            Some('"') => self.string(i + 1),
            Some('{') => self.object(i + 1, depth + 1),
            Some('[') => self.array(i + 1, depth + 1),
            _ => {
                for word in ["null", "true", "false", "NaN", "Infinity", "-Infinity"] {
                    if self.starts_with(i, word) {
                        return Ok(i + word.chars().count());
                    }
                }
                self.number(i).ok_or_else(|| err(i, "Expecting value"))
            }
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`
    fn number(&self, i: usize) -> Option<usize> {
        let digits = |mut j: usize| {
            let start = j;
            while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            (j > start).then_some(j)
        };
        let mut j = i;
        if self.at(j) == Some('-') {
            j += 1;
        }
        j = match self.at(j) {
            Some('0') => j + 1,
            Some('1'..='9') => digits(j)?,
            _ => return None,
        };
        if self.at(j) == Some('.') {
            if let Some(k) = digits(j + 1) {
                j = k;
            }
        }
        if matches!(self.at(j), Some('e' | 'E')) {
            let mut k = j + 1;
            if matches!(self.at(k), Some('+' | '-')) {
                k += 1;
            }
            if let Some(k) = digits(k) {
                j = k;
            }
        }
        Some(j)
    }

    /// A string whose opening quote is at `start - 1`.
    fn string(&self, start: usize) -> Result<usize, DecodeError> {
        let begin = start - 1;
        let mut i = start;
        loop {
            let Some(c) = self.at(i) else {
                return Err(err(begin, "Unterminated string starting at"));
            };
            match c {
                '"' => return Ok(i + 1),
                '\\' => {
                    let Some(esc) = self.at(i + 1) else {
                        return Err(err(begin, "Unterminated string starting at"));
                    };
                    if esc == 'u' {
                        let hex: String = self.s
                            [(i + 2).min(self.s.len())..(i + 6).min(self.s.len())]
                            .iter()
                            .collect();
                        let valid =
                            hex.chars().count() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit());
                        if !valid {
                            return Err(err(i + 1, "Invalid \\uXXXX escape"));
                        }
                        i += 6;
                    } else if "\"\\/bfnrt".contains(esc) {
                        i += 2;
                    } else {
                        return Err(err(i, "Invalid \\escape"));
                    }
                }
                c if (c as u32) < 0x20 => return Err(err(i, "Invalid control character at")),
                _ => i += 1,
            }
        }
    }

    /// An object whose `{` is at `start - 1`.
    fn object(&self, start: usize, depth: usize) -> Result<usize, DecodeError> {
        let mut end = self.skip_ws(start);
        match self.at(end) {
            Some('}') => return Ok(end + 1),
            Some('"') => {}
            _ => {
                return Err(err(
                    end,
                    "Expecting property name enclosed in double quotes",
                ))
            }
        }
        end += 1;
        loop {
            end = self.string(end)?;
            end = self.skip_ws(end);
            if self.at(end) != Some(':') {
                return Err(err(end, "Expecting ':' delimiter"));
            }
            end = self.skip_ws(end + 1);
            end = self.value(end, depth)?;
            end = self.skip_ws(end);
            match self.at(end) {
                Some('}') => return Ok(end + 1),
                Some(',') => {}
                _ => return Err(err(end, "Expecting ',' delimiter")),
            }
            end = self.skip_ws(end + 1);
            if self.at(end) != Some('"') {
                return Err(err(
                    end,
                    "Expecting property name enclosed in double quotes",
                ));
            }
            end += 1;
        }
    }

    /// An array whose `[` is at `start - 1`.
    fn array(&self, start: usize, depth: usize) -> Result<usize, DecodeError> {
        let mut end = self.skip_ws(start);
        if self.at(end) == Some(']') {
            return Ok(end + 1);
        }
        loop {
            end = self.value(end, depth)?;
            end = self.skip_ws(end);
            match self.at(end) {
                Some(']') => return Ok(end + 1),
                Some(',') => {}
                _ => return Err(err(end, "Expecting ',' delimiter")),
            }
            end = self.skip_ws(end + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dumps_like_python() {
        let v = json!({"type": "missing", "loc": ["body", "image"], "input": {"topk": 2, "x": 1e-5, "é": "猫\n"}});
        assert_eq!(
            dumps(&v, DUMPS_DEFAULT),
            r#"{"type": "missing", "loc": ["body", "image"], "input": {"topk": 2, "x": 1e-05, "\u00e9": "\u732b\n"}}"#
        );
        assert_eq!(dumps(&v, RESPONSE), "{\"type\":\"missing\",\"loc\":[\"body\",\"image\"],\"input\":{\"topk\":2,\"x\":1e-05,\"é\":\"猫\\n\"}}");
        assert_eq!(dumps(&json!("😀"), DUMPS_DEFAULT), r#""\ud83d\ude00""#);
        assert_eq!(dumps(&json!(2.0), DUMPS_DEFAULT), "2.0");
    }

    #[test]
    fn error_positions_and_messages_follow_python() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "Expecting value"),
            ("   ", 3, "Expecting value"),
            ("{\"image\": }", 10, "Expecting value"),
            ("{\"image\": nope}", 10, "Expecting value"),
            (
                "{image: 1}",
                1,
                "Expecting property name enclosed in double quotes",
            ),
            ("{\"a\" 1}", 5, "Expecting ':' delimiter"),
            ("{\"a\": 1 \"b\": 2}", 8, "Expecting ',' delimiter"),
            (
                "{\"a\": 1,}",
                8,
                "Expecting property name enclosed in double quotes",
            ),
            ("{\"a\": \"xyz", 6, "Unterminated string starting at"),
            ("{\"a\": 1} x", 9, "Extra data"),
            ("[1, 2", 5, "Expecting ',' delimiter"),
            ("\"a\tb\"", 2, "Invalid control character at"),
            ("\"\\q\"", 1, "Invalid \\escape"),
            ("\"\\u12g4\"", 2, "Invalid \\uXXXX escape"),
            ("{\"é\": x}", 6, "Expecting value"),
        ];
        for &(text, pos, msg) in cases {
            assert_eq!(
                locate_error(text),
                Some(DecodeError {
                    pos,
                    msg: msg.into()
                }),
                "{text:?}"
            );
        }
        for ok in [
            "{}",
            " [1, -2.5e3, null, true, NaN, -Infinity] ",
            "{\"a\": {\"b\": []}}",
        ] {
            assert_eq!(locate_error(ok), None, "{ok:?}");
        }
        let deep = "[".repeat(5000);
        assert!(locate_error(&deep).is_some());
    }
}
