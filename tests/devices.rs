//! `--device`, `--use_hpip` and `--hpi_config` on a machine without a GPU:
//! the fallback, the fallback switched off, unsupported hardware, and the
//! backends that can or cannot run here.

mod common;

use common::*;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    copy_photos(dir.path(), &["doc_90.png"]);
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    (dir, yaml)
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let (dir, yaml) = setup();
    let mut cmd = paddlex();
    cmd.current_dir(dir.path())
        .env_remove("PADDLE_PDX_DISABLE_DEVICE_FALLBACK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            "imgs/doc_90.png",
        ])
        .args(args)
        .output()
        .unwrap();
    (out.status.code(), stderr_of(&out))
}

#[test]
fn cpu_is_used_and_named() {
    let (code, err) = run(&["--device", "cpu"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("Inference: onnxruntime backend, CPUExecutionProvider"),
        "{err}"
    );
    assert!(err.contains("'label_names': ['270']"), "{err}");
}

#[test]
fn an_unusable_gpu_falls_back_to_cpu_with_one_warning() {
    for device in ["gpu:0", "gpu", "npu:0"] {
        let (code, err) = run(&["--device", device], &[]);
        assert_eq!(code, Some(0), "{device}: {err}");
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("falling back to CPU"))
            .collect();
        assert_eq!(warnings.len(), 1, "{device}: {err}");
        assert!(warnings[0].contains("was requested but"), "{err}");
        assert!(
            err.contains("CPUExecutionProvider") && err.contains("'label_names': ['270']"),
            "{err}"
        );
    }
}

#[test]
fn fallback_can_be_disabled() {
    let (code, err) = run(
        &["--device", "gpu:0"],
        &[("PADDLE_PDX_DISABLE_DEVICE_FALLBACK", "1")],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("PADDLE_PDX_DISABLE_DEVICE_FALLBACK is set"),
        "{err}"
    );
    assert!(!err.contains("{'res'"), "{err}");
}

#[test]
fn unsupported_hardware_and_bad_device_strings() {
    let (code, err) = run(&["--device", "mlu:0"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("this build does not support mlu hardware"),
        "{err}"
    );
    let (code, err) = run(&["--device", "gpu:x"], &[]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Device ID must be an integer. Invalid device ID: x"),
        "{err}"
    );
}

#[test]
fn hpi_backends_on_the_cpu() {
    let (code, err) = run(
        &[
            "--use_hpip",
            "--hpi_config",
            "{'backend': 'onnxruntime', 'backend_config': {'cpu_num_threads': 1}}",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("Inference: onnxruntime backend, CPUExecutionProvider, 1 threads"),
        "{err}"
    );

    let (code, err) = run(
        &[
            "--device",
            "cpu",
            "--use_hpip",
            "--hpi_config",
            "{'backend': 'tensorrt'}",
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("backend tensorrt cannot run on cpu"), "{err}");

    // The CPU runtime this project provisions has no OpenVINO provider: said so, no silent CPU run.
    let (code, err) = run(
        &[
            "--device",
            "cpu",
            "--use_hpip",
            "--hpi_config",
            "{'backend': 'openvino'}",
        ],
        &[],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("OpenVINOExecutionProvider execution provider is not usable"),
        "{err}"
    );

    let (code, err) = run(&["--hpi_config", "{'backend': 'onnxruntime'}"], &[]);
    assert_eq!(code, Some(0));
    assert!(
        err.contains("--hpi_config has no effect without --use_hpip"),
        "{err}"
    );

    let (code, err) = run(&["--use_hpip", "--hpi_config", "{'backend': "], &[]);
    assert_eq!(code, Some(1));
    assert!(err.contains("invalid --hpi_config"), "{err}");
}

#[test]
fn several_device_ids_fall_back_with_the_same_results() {
    // Without a GPU, gpu:0,1 runs on the CPU; the results are the CPU's, in input order.
    // (The round-robin dealing over several sessions is tested in src/pipeline.rs.)
    let dir = tempfile::tempdir().unwrap();
    copy_photos(
        dir.path(),
        &[
            "doc_0.png",
            "doc_90.png",
            "doc_180.png",
            "doc_270.png",
            "chelsea.png",
        ],
    );
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 2, "2");
    let run = |device: &str| {
        let out = paddlex()
            .current_dir(dir.path())
            .env_remove("PADDLE_PDX_DISABLE_DEVICE_FALLBACK")
            .args([
                "--pipeline",
                yaml.to_str().unwrap(),
                "--input",
                "imgs",
                "--format",
                "jsonl",
                "--device",
                device,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let single = run("cpu");
    let dealt = run("gpu:0,1");
    assert_eq!(single.lines().count(), 5);
    assert_eq!(single, dealt);
}
