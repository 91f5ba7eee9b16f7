//! The one way this program writes a file: into a temporary file beside
//! the destination (created with the permissions of any new file, 0666 less
//! the umask), renamed over it once complete. Results, `--get_pipeline_config`,
//! converted models and downloads all go through it, so an interrupted run
//! never leaves a half-written file under a final name.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot save {path}: {reason}")]
pub struct WriteError {
    /// The file that was being written.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Writes through `fill` into a temporary file beside `path`, then renames it
/// over `path`. Parent folders are created. A failure leaves nothing behind.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<std::fs::File>) -> Result<(), String>,
) -> Result<(), WriteError> {
    let err = |reason: String| WriteError {
        path: path.display().to_string(),
        reason,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| err(e.to_string()))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".paddlex-").suffix(".part");
    // Like any new file: 0666 less the umask (a temporary file's default is 0600).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder
        .tempfile_in(&parent)
        .map_err(|e| err(e.to_string()))?;
    let (file, tmp_path) = tmp.into_parts();
    let mut writer = BufWriter::new(file);
    fill(&mut writer).map_err(&err)?;
    writer.flush().map_err(|e| err(e.to_string()))?;
    tmp_path.persist(path).map_err(|e| err(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_fill_leaves_neither_the_file_nor_a_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.json");
        let err = write_atomically(&path, |w| {
            w.write_all(b"half").map_err(|e| e.to_string())?;
            Err("encoder failed".into())
        })
        .unwrap_err();
        assert!(err.to_string().contains("encoder failed"), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            0
        );
        write_atomically(&path, |w| w.write_all(b"whole").map_err(|e| e.to_string())).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
    }

    #[cfg(unix)]
    #[test]
    fn saved_files_get_the_permissions_of_a_plain_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let saved = dir.path().join("x_res.jpg");
        write_atomically(&saved, |w| w.write_all(b"bytes").map_err(|e| e.to_string())).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&saved), mode(&plain));
    }
}
