//! Paddle-format model directories (`inference.json` or `inference.pdmodel`
//! with `inference.pdiparams`): converted to ONNX with the `paddle2onnx`
//! crate, on first use or by `paddlex --paddle2onnx`.
//!
//! Where the ONNX model goes on first use: beside the Paddle files when the
//! folder is writable, else `<cache>/converted/<fingerprint>/`. A marker
//! file (`inference.onnx.paddle2onnx`) records the fingerprint of the Paddle
//! files it came from, so a changed Paddle model is converted again while an
//! `inference.onnx` the user put there (no marker) is used as it is.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use paddle2onnx::{ModelFiles, Options, Summary};
use sha2::{Digest, Sha256};

use crate::cache::{cache_home, locks_dir};
use crate::log;
use crate::provision;

/// The marker written beside an `inference.onnx` this module converted.
pub(crate) const MARKER: &str = "inference.onnx.paddle2onnx";

/// Why a Paddle model could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum PaddleError {
    /// The converter refused or failed (names the operator and file).
    #[error("converting the Paddle model to ONNX failed: {0}")]
    Convert(#[from] paddle2onnx::Error),
    /// Writing the ONNX model failed.
    #[error(transparent)]
    Write(#[from] crate::atomic_file::WriteError),
    /// Reading the Paddle files or writing the marker failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// Taking the conversion lock failed.
    #[error(transparent)]
    Lock(#[from] provision::ProvisionError),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> PaddleError {
    let context = context.into();
    move |source| PaddleError::Io { context, source }
}

/// Converts `files` into `onnx`, written through a temporary file beside it
/// and renamed into place, so a failed or interrupted conversion leaves
/// nothing behind.
pub(crate) fn convert_to(
    files: &ModelFiles,
    onnx: &Path,
    options: &Options,
) -> Result<Summary, PaddleError> {
    let mut converted = None;
    let written = crate::atomic_file::write_atomically(onnx, |out| {
        let result = paddle2onnx::convert_files(files, options, out);
        let status = result.as_ref().map(|_| ()).map_err(ToString::to_string);
        converted = Some(result);
        status
    });
    match (converted, written) {
        (Some(Err(e)), _) => Err(PaddleError::Convert(e)),
        (_, Err(e)) => Err(PaddleError::Write(e)),
        (Some(Ok(summary)), Ok(())) => Ok(summary),
        (None, Ok(())) => Err(PaddleError::Io {
            context: format!("writing {}", onnx.display()),
            source: std::io::Error::other("the converter did not run"),
        }),
    }
}

/// A fingerprint of a Paddle model's files: the program file whole, and the
/// weights file's size with its first and last MiB (fine-tuning rewrites
/// nearly every weight, and hashing a large weights file on every run would
/// cost more than the conversion check saves).
pub(crate) fn fingerprint(files: &ModelFiles) -> Result<String, PaddleError> {
    let mut hash = Sha256::new();
    let program = std::fs::read(&files.program)
        .map_err(io(format!("reading {}", files.program.display())))?;
    hash.update((program.len() as u64).to_le_bytes());
    hash.update(&program);
    if let Ok(mut params) = File::open(&files.params) {
        let context = format!("reading {}", files.params.display());
        let len = params.metadata().map_err(io(context.clone()))?.len();
        hash.update(len.to_le_bytes());
        let mut chunk = vec![0; (1 << 20).min(len as usize)];
        params.read_exact(&mut chunk).map_err(io(context.clone()))?;
        hash.update(&chunk);
        params
            .seek(SeekFrom::Start(len - chunk.len() as u64))
            .map_err(io(context.clone()))?;
        params.read_exact(&mut chunk).map_err(io(context))?;
        hash.update(&chunk);
    }
    Ok(provision::hex(&hash.finalize()[..12]))
}

/// The ONNX model for the Paddle model `files` in `dir`, converting it on
/// first use.
pub(crate) fn ensure_onnx(dir: &Path, files: &ModelFiles) -> Result<PathBuf, PaddleError> {
    ensure_onnx_in(dir, files, &cache_home(), &locks_dir())
}

/// [`ensure_onnx`] with the cache root and the locks folder given.
pub(crate) fn ensure_onnx_in(
    dir: &Path,
    files: &ModelFiles,
    cache: &Path,
    locks: &Path,
) -> Result<PathBuf, PaddleError> {
    let beside = dir.join("inference.onnx");
    // The user's own model (no marker): used as it is, without hashing the
    // Paddle files on every run.
    if beside.is_file() && !beside.with_file_name(MARKER).exists() {
        return Ok(beside);
    }
    let key = fingerprint(files)?;
    let cached = cache.join("converted").join(&key).join("inference.onnx");
    let current = || {
        [(&beside, true), (&cached, false)]
            .into_iter()
            .find(|(onnx, user_may_own)| is_current(onnx, &key, *user_may_own))
            .map(|(onnx, _)| onnx.clone())
    };
    if let Some(onnx) = current() {
        return Ok(onnx);
    }
    let _lock = provision::lock(&locks.join("converted"), &key)?;
    // Another process may have converted it while we waited for the lock.
    if let Some(onnx) = current() {
        return Ok(onnx);
    }
    let options = Options::default();
    // A stale marker goes first: an ONNX model without one is never
    // mistaken for a conversion of other files.
    for onnx in [&beside, &cached] {
        let _ = std::fs::remove_file(onnx.with_file_name(MARKER));
    }
    let target = match convert_to(files, &beside, &options) {
        Ok(_) => beside,
        // Nothing can be written beside the Paddle files (a read-only
        // folder, say): the cache takes the model instead.
        Err(PaddleError::Write(_)) => {
            convert_to(files, &cached, &options)?;
            cached
        }
        Err(e) => return Err(e),
    };
    let marker = target.with_file_name(MARKER);
    std::fs::write(&marker, format!("{key}\n"))
        .map_err(io(format!("writing {}", marker.display())))?;
    log::info(&format!(
        "Converted the Paddle model ({}) to ONNX: {} (done once; later runs reuse it)",
        files.program.display(),
        target.display()
    ));
    Ok(target)
}

/// Whether `onnx` exists and was converted from the files with fingerprint
/// `key`. Without a marker, an `inference.onnx` beside the Paddle files is
/// the user's own (e.g. from PaddleX's `--paddle2onnx`) and is used as it is;
/// one in the cache always has a marker.
fn is_current(onnx: &Path, key: &str, user_may_own: bool) -> bool {
    if !onnx.is_file() {
        return false;
    }
    match std::fs::read_to_string(onnx.with_file_name(MARKER)) {
        Ok(recorded) => recorded.trim() == key,
        Err(_) => user_may_own,
    }
}
