//! `--format jsonl`: one JSON object per input on stdout, in input order.

use std::io::Write;

use super::Reporter;
use crate::pyfmt::json::{to_string, LINE};
use crate::result::json::compact_json;
use crate::result::Classification;

/// A failure line: laid out like a result line (Python's `json.dumps` spacing).
#[derive(serde::Serialize)]
struct Failure<'a> {
    input_path: &'a str,
    page_index: Option<usize>,
    error: &'a str,
}

/// Writes one line per input; failures as `{"input_path": ..., "error": ...}`.
pub(crate) struct JsonLines<'w> {
    out: Box<dyn Write + 'w>,
}

impl<'w> JsonLines<'w> {
    /// Writes to `out`.
    pub(crate) fn new(out: Box<dyn Write + 'w>) -> Self {
        JsonLines { out }
    }
}

impl Reporter for JsonLines<'_> {
    fn success(&mut self, res: &Classification) -> std::io::Result<()> {
        writeln!(self.out, "{}", compact_json(res))?;
        self.out.flush()
    }

    fn failure(
        &mut self,
        input_path: &str,
        page_index: Option<usize>,
        reason: &str,
    ) -> std::io::Result<()> {
        let line = Failure {
            input_path,
            page_index,
            error: reason,
        };
        writeln!(self.out, "{}", to_string(&line, LINE))?;
        self.out.flush()
    }
}
