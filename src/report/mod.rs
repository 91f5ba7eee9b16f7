//! Reporting results: one [`Reporter`] trait, one file per `--format`, plus
//! the progress bar and the closing summary line.

mod csv;
mod jsonl;
mod paddlex;

pub(crate) use paddlex::error_line;
pub(crate) mod progress;

use std::io::Write;

use crate::result::Classification;

/// How results are reported (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// PaddleX's `{'res': ...}` line on stderr.
    Paddlex,
    /// One JSON object per input on stdout.
    Jsonl,
    /// A CSV header, then one row per input on stdout.
    Csv,
}

/// Receives each input's result, in input order.
pub(crate) trait Reporter {
    /// A classified input.
    fn success(&mut self, res: &Classification) -> std::io::Result<()>;
    /// A failed input, with a one-line reason (the `Error:` line on stderr is
    /// written by the caller whatever the format).
    fn failure(
        &mut self,
        input_path: &str,
        page_index: Option<usize>,
        reason: &str,
    ) -> std::io::Result<()>;
    /// After the last input.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The reporter for `format`, writing machine-readable output to `out`;
/// `topk` sizes the CSV columns.
pub(crate) fn reporter<'w>(
    format: Format,
    out: Box<dyn Write + 'w>,
    topk: usize,
) -> std::io::Result<Box<dyn Reporter + 'w>> {
    Ok(match format {
        Format::Paddlex => Box::new(paddlex::PaddlexLines),
        Format::Jsonl => Box::new(jsonl::JsonLines::new(out)),
        Format::Csv => Box::new(csv::CsvRows::new(out, topk)?),
    })
}

/// The one-line summary printed at the end of a run.
pub(crate) fn summary(processed: usize, failed: usize, skipped: usize, seconds: f64) -> String {
    let rate = if seconds > 0.0 {
        processed as f64 / seconds
    } else {
        0.0
    };
    format!("Done: {processed} processed, {failed} failed, {skipped} skipped in {seconds:.2} s ({rate:.1} images/s)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line() {
        assert_eq!(
            summary(10, 1, 2, 2.0),
            "Done: 10 processed, 1 failed, 2 skipped in 2.00 s (5.0 images/s)"
        );
        assert_eq!(
            summary(0, 0, 3, 0.0),
            "Done: 0 processed, 0 failed, 3 skipped in 0.00 s (0.0 images/s)"
        );
    }
}
