//! `--format jsonl`: one JSON object per input on stdout, in input order.

use std::io::Write;

use super::Reporter;
use crate::result::json::compact_json;
use crate::result::Classification;

/// Writes one line per input; failures as `{"input_path": ..., "error": ...}`.
pub struct JsonLines<'w> {
    out: Box<dyn Write + 'w>,
}

impl<'w> JsonLines<'w> {
    /// Writes to `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
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
        let line = serde_json::json!({"input_path": input_path, "page_index": page_index, "error": reason});
        writeln!(self.out, "{line}")?;
        self.out.flush()
    }
}
