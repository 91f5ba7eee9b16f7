//! PaddleX-style log lines on stderr: green info, yellow warnings, red errors.
//!
//! PaddleX colours every line, even into a pipe; we colour only when stderr is
//! a terminal and `NO_COLOR` is unset (SPEC Part 1, decision 5).

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

/// Severity of a log line; decides the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal output (results, progress): green.
    Info,
    /// Something the user should know: yellow.
    Warning,
    /// A failure: red.
    Error,
}

impl Level {
    fn ansi(self) -> &'static str {
        match self {
            Level::Info => "\x1b[32m",
            Level::Warning => "\x1b[33m",
            Level::Error => "\x1b[31m",
        }
    }
}

/// Whether stderr gets ANSI colours.
pub(crate) fn colors_enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED
        .get_or_init(|| std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
}

/// Formats one line with the colour codes for `level` when colours are on.
pub fn format_line(level: Level, message: &str, colored: bool) -> String {
    if colored {
        format!("{}{}\x1b[0m", level.ansi(), message)
    } else {
        message.to_string()
    }
}

/// Writes one line to stderr. Errors writing stderr are ignored: there is
/// nowhere left to report them.
pub(crate) fn line(level: Level, message: &str) {
    let text = format_line(level, message, colors_enabled());
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{text}");
}

/// An info line (green).
pub(crate) fn info(message: &str) {
    line(Level::Info, message);
}

/// A warning line (yellow).
pub(crate) fn warn(message: &str) {
    line(Level::Warning, message);
}

/// An error line (red).
pub(crate) fn error(message: &str) {
    line(Level::Error, message);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_wrap_the_message_only_when_asked() {
        assert_eq!(format_line(Level::Info, "hi", true), "\x1b[32mhi\x1b[0m");
        assert_eq!(format_line(Level::Error, "bad", true), "\x1b[31mbad\x1b[0m");
        assert_eq!(format_line(Level::Warning, "w", false), "w");
    }
}
