//! The cache root shared with PaddleX: `$PADDLE_PDX_CACHE_HOME`, else `~/.paddlex`.

use std::path::PathBuf;

/// The cache root directory (not created here).
pub(crate) fn cache_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("PADDLE_PDX_CACHE_HOME").filter(|d| !d.is_empty()) {
        return absolute(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    absolute(home.join(".paddlex"))
}

/// Where official models live: `<cache>/official_models`.
pub(crate) fn official_models_dir() -> PathBuf {
    cache_home().join("official_models")
}

/// Where provisioning keeps its lock files: `<cache>/locks`.
pub(crate) fn locks_dir() -> PathBuf {
    cache_home().join("locks")
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}
