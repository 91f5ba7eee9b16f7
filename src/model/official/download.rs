//! Downloading one archive over HTTP(S) into a file: connect and read
//! timeouts, a size cap, a check that every announced byte arrived, and a
//! progress bar on a terminal for large files.
//!
//! The client is reqwest with rustls; it trusts the system's CA certificates
//! (and `SSL_CERT_FILE` / `SSL_CERT_DIR`) as well as Mozilla's bundled
//! roots, and honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long connecting may take (PaddleX uses 15 s).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the response headers, or any one read of the body, may take.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Files at least this large get a progress bar (on a terminal).
const BAR_FROM_BYTES: u64 = 4 << 20;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// The request failed (refused, unreachable, TLS, timed out, ...).
    #[error("{0}")]
    Request(String),
    /// The server answered with an error status.
    #[error("HTTP {0}")]
    Status(String),
    /// The body ended before the announced length.
    #[error("the transfer was cut short after {got} of {expected} bytes ({cause})")]
    Truncated {
        /// Bytes received.
        got: u64,
        /// `Content-Length`.
        expected: u64,
        /// What the connection reported.
        cause: String,
    },
    /// Too large to be one of PaddleX's models.
    #[error("the file is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Writing the file failed.
    #[error("writing {path}: {error}")]
    Write {
        /// The file.
        path: String,
        /// The error.
        error: std::io::Error,
    },
}

/// Downloads `url` into `dest` (created), refusing more than `max_bytes`.
/// Prints PaddleX's `Connecting to ...` and `Downloading ...` lines on
/// stderr. Returns the number of bytes written.
pub(crate) fn download(url: &str, dest: &Path, max_bytes: u64) -> Result<u64, TransferError> {
    eprintln!("Connecting to {url} ...");
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(READ_TIMEOUT)
        .user_agent(concat!("paddlex-rs/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| TransferError::Client(describe(e)))?;
    let mut response = client
        .get(url)
        .send()
        .map_err(|e| TransferError::Request(describe(e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(TransferError::Status(status.to_string()));
    }
    let expected = response.content_length();
    if expected.is_some_and(|n| n > max_bytes) {
        return Err(TransferError::TooLarge { limit: max_bytes });
    }
    let name = dest
        .file_name()
        .map_or_else(|| url.to_string(), |n| n.to_string_lossy().into_owned());
    eprintln!("Downloading {name} ...");
    let write_error = |error| TransferError::Write {
        path: dest.display().to_string(),
        error,
    };
    let mut file = File::create(dest).map_err(write_error)?;
    let bar = progress_bar(expected);
    let mut got: u64 = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.finish_and_clear();
                let cause = describe_io(&e);
                return Err(match expected {
                    Some(expected) => TransferError::Truncated {
                        got,
                        expected,
                        cause,
                    },
                    None => TransferError::Request(cause),
                });
            }
        };
        got += n as u64;
        if got > max_bytes {
            bar.finish_and_clear();
            return Err(TransferError::TooLarge { limit: max_bytes });
        }
        file.write_all(&buf[..n]).map_err(write_error)?;
        bar.set_position(got);
    }
    bar.finish_and_clear();
    if let Some(expected) = expected.filter(|&e| e != got) {
        return Err(TransferError::Truncated {
            got,
            expected,
            cause: "the connection closed early".into(),
        });
    }
    file.sync_all().map_err(write_error)?;
    Ok(got)
}

/// A byte bar for a known length of at least [`BAR_FROM_BYTES`], a byte
/// counter for an unknown one; hidden unless stderr is a terminal.
fn progress_bar(len: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() || len.is_some_and(|n| n < BAR_FROM_BYTES) {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            "{bar:30} {bytes}/{total_bytes}  {bytes_per_sec}  ETA {eta}",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{spinner} {bytes}  {bytes_per_sec}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// reqwest's error with its causes, on one line, without the URL (the
/// message names it already).
fn describe(err: reqwest::Error) -> String {
    if err.is_timeout() {
        return format!(
            "timed out (connect {} s, read {} s)",
            CONNECT_TIMEOUT.as_secs(),
            READ_TIMEOUT.as_secs()
        );
    }
    chain(&err.without_url())
}

/// An I/O error from the body with its causes, on one line.
fn describe_io(err: &std::io::Error) -> String {
    if err.kind() == std::io::ErrorKind::TimedOut {
        return format!("no data for {} s", READ_TIMEOUT.as_secs());
    }
    chain(err)
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
