//! `json.loads`'s error position and message for a malformed body, as the
//! serving API shows them to clients (`json.dumps` output is
//! [`crate::pyfmt::json`]'s).

/// A `json.JSONDecodeError`: Python's message and the character offset it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonDecodeError {
    /// Offset in characters (not bytes), as Python's `e.pos`.
    pub pos: usize,
    /// Python's `e.msg`, e.g. `Expecting value`.
    pub msg: String,
}

/// Deepest nesting the error locator follows (Python itself stops near 1000).
const MAX_DEPTH: usize = 900;

/// Where and why Python's `json.loads` rejects `text`; `None` when it accepts it.
/// Scans the bytes in place (no copy of the text) and converts the byte
/// offset of the error to Python's character offset at the end.
pub(crate) fn locate_error(text: &str) -> Option<JsonDecodeError> {
    let scanner = Scanner { s: text.as_bytes() };
    let start = scanner.skip_ws(0);
    let result = scanner.value(start, 0).and_then(|end| {
        let end = scanner.skip_ws(end);
        if end == text.len() {
            Ok(end)
        } else {
            Err(err(end, "Extra data"))
        }
    });
    result.err().map(|mut e| {
        // Every error offset is at an ASCII byte or the end, a char boundary.
        e.pos = text
            .get(..e.pos)
            .map_or(e.pos, |before| before.chars().count());
        e
    })
}

fn err(pos: usize, msg: &str) -> JsonDecodeError {
    JsonDecodeError {
        pos,
        msg: msg.to_string(),
    }
}

/// A recursive scanner following CPython's `json.scanner` / `json.decoder`,
/// over UTF-8 bytes: every byte of a multi-byte character is >= 0x80, so
/// the ASCII tests below never match inside one.
struct Scanner<'a> {
    s: &'a [u8],
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<u8> {
        self.s.get(i).copied()
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    fn starts_with(&self, i: usize, word: &str) -> bool {
        self.s
            .get(i..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
    }

    /// Scans one value at `i`; returns the index after it.
    fn value(&self, i: usize, depth: usize) -> Result<usize, JsonDecodeError> {
        if depth > MAX_DEPTH {
            return Err(err(i, "Maximum nesting depth exceeded"));
        }
        match self.at(i) {
            Some(b'"') => self.string(i + 1),
            Some(b'{') => self.object(i + 1, depth + 1),
            Some(b'[') => self.array(i + 1, depth + 1),
            _ => {
                for word in ["null", "true", "false", "NaN", "Infinity", "-Infinity"] {
                    if self.starts_with(i, word) {
                        return Ok(i + word.len());
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
        if self.at(j) == Some(b'-') {
            j += 1;
        }
        j = match self.at(j) {
            Some(b'0') => j + 1,
            Some(b'1'..=b'9') => digits(j)?,
            _ => return None,
        };
        if self.at(j) == Some(b'.') {
            if let Some(k) = digits(j + 1) {
                j = k;
            }
        }
        if matches!(self.at(j), Some(b'e' | b'E')) {
            let mut k = j + 1;
            if matches!(self.at(k), Some(b'+' | b'-')) {
                k += 1;
            }
            if let Some(k) = digits(k) {
                j = k;
            }
        }
        Some(j)
    }

    /// A string whose opening quote is at `start - 1`.
    fn string(&self, start: usize) -> Result<usize, JsonDecodeError> {
        let begin = start - 1;
        let mut i = start;
        loop {
            let Some(c) = self.at(i) else {
                return Err(err(begin, "Unterminated string starting at"));
            };
            match c {
                b'"' => return Ok(i + 1),
                b'\\' => {
                    let Some(esc) = self.at(i + 1) else {
                        return Err(err(begin, "Unterminated string starting at"));
                    };
                    if esc == b'u' {
                        let valid = self
                            .s
                            .get(i + 2..i + 6)
                            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
                        if !valid {
                            return Err(err(i + 1, "Invalid \\uXXXX escape"));
                        }
                        i += 6;
                    } else if b"\"\\/bfnrt".contains(&esc) {
                        i += 2;
                    } else {
                        return Err(err(i, "Invalid \\escape"));
                    }
                }
                c if c < 0x20 => return Err(err(i, "Invalid control character at")),
                _ => i += 1,
            }
        }
    }

    /// An object whose `{` is at `start - 1`.
    fn object(&self, start: usize, depth: usize) -> Result<usize, JsonDecodeError> {
        let mut end = self.skip_ws(start);
        match self.at(end) {
            Some(b'}') => return Ok(end + 1),
            Some(b'"') => {}
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
            if self.at(end) != Some(b':') {
                return Err(err(end, "Expecting ':' delimiter"));
            }
            end = self.skip_ws(end + 1);
            end = self.value(end, depth)?;
            end = self.skip_ws(end);
            match self.at(end) {
                Some(b'}') => return Ok(end + 1),
                Some(b',') => {}
                _ => return Err(err(end, "Expecting ',' delimiter")),
            }
            end = self.skip_ws(end + 1);
            if self.at(end) != Some(b'"') {
                return Err(err(
                    end,
                    "Expecting property name enclosed in double quotes",
                ));
            }
            end += 1;
        }
    }

    /// An array whose `[` is at `start - 1`.
    fn array(&self, start: usize, depth: usize) -> Result<usize, JsonDecodeError> {
        let mut end = self.skip_ws(start);
        if self.at(end) == Some(b']') {
            return Ok(end + 1);
        }
        loop {
            end = self.value(end, depth)?;
            end = self.skip_ws(end);
            match self.at(end) {
                Some(b']') => return Ok(end + 1),
                Some(b',') => {}
                _ => return Err(err(end, "Expecting ',' delimiter")),
            }
            end = self.skip_ws(end + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            ("[\"猫😀\", x]", 7, "Expecting value"),
            ("\"é\\u12\"", 3, "Invalid \\uXXXX escape"),
            ("\"é", 0, "Unterminated string starting at"),
            ("{\"a\": \"é\"} é", 11, "Extra data"),
        ];
        for &(text, pos, msg) in cases {
            assert_eq!(
                locate_error(text),
                Some(JsonDecodeError {
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
