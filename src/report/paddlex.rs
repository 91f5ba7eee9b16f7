//! `--format paddlex`: PaddleX's result line on stderr (the default).

use super::Reporter;
use crate::log;
use crate::result::Classification;

/// Prints `{'res': {...}}` lines and `Error:` lines on stderr.
pub(crate) struct PaddlexLines;

impl Reporter for PaddlexLines {
    fn success(&mut self, res: &Classification) -> std::io::Result<()> {
        log::info(&crate::result::pyrepr::result_line(res));
        Ok(())
    }

    fn failure(
        &mut self,
        _input_path: &str,
        _page_index: Option<usize>,
        _reason: &str,
    ) -> std::io::Result<()> {
        // The `Error:` line on stderr is written for every format by the caller.
        Ok(())
    }
}

/// `Error: <path>[ page N]: <reason>`.
pub(crate) fn error_line(input_path: &str, page_index: Option<usize>, reason: &str) -> String {
    match page_index {
        Some(p) => format!("Error: {input_path} page {p}: {reason}"),
        None => format!("Error: {input_path}: {reason}"),
    }
}
