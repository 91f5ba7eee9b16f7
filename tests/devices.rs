//! `--device`, `--use_hpip` and `--hpi_config` on a machine without a GPU:
//! the fallback, the fallback switched off, unsupported hardware, and the
//! backends that can or cannot run here.

mod common;

use common::*;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    workspace(&["doc_90.png"], DOC_MODEL, 1, "1")
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let (dir, yaml) = setup();
    let mut cmd = pipeline_command(dir.path(), &yaml);
    cmd.env_remove("PADDLE_PDX_DISABLE_DEVICE_FALLBACK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["--input", "imgs/doc_90.png"])
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
        err.contains("Inference: onnxruntime backend, CPUExecutionProvider, 1 thread"),
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
        err.contains("OpenVINOExecutionProvider is not usable"),
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

/// A stand-in for the NVIDIA driver's `libcuda.so.1`, built with the C
/// compiler: it loads (so the driver probe passes) but exports nothing CUDA
/// needs. Returns its folder, for `LD_LIBRARY_PATH`.
fn fake_driver(dir: &std::path::Path) -> std::path::PathBuf {
    let lib_dir = dir.join("fake-driver");
    std::fs::create_dir_all(&lib_dir).unwrap();
    let src = dir.join("fake_cuda.c");
    std::fs::write(&src, "int paddlex_test_fake_cuda(void) { return 0; }\n").unwrap();
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(lib_dir.join("libcuda.so.1"))
        .arg(&src)
        .status()
        .expect("a C compiler (cc) to build the stand-in driver library");
    assert!(status.success());
    lib_dir
}

/// A package folder holding a wheel for every GPU runtime package, with the
/// right names and versions but the wrong bytes.
fn tampered_index(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let index = dir.join("index");
    std::fs::create_dir_all(&index).unwrap();
    for wheel in paddlex::runtime::gpu::WHEELS {
        let name = format!(
            "{}-{}-py3-none-manylinux_2_17_x86_64.whl",
            wheel.package.replace('-', "_"),
            wheel.version
        );
        let mut zip = zip::ZipWriter::new(std::fs::File::create(index.join(name)).unwrap());
        zip.start_file("tampered.txt", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"not the real wheel").unwrap();
        zip.finish().unwrap();
    }
    index
}

#[test]
fn a_gpu_runtime_that_cannot_be_fetched_falls_back_and_leaves_nothing() {
    // With a (stand-in) driver, gpu:0 fetches the GPU runtime. Here the
    // package index serves wheels whose bytes differ from the pins: pip
    // refuses them, the CPU runs instead with one warning that says why,
    // and nothing is left in the cache.
    let (code, err) = run(&["--device", "cpu"], &[]);
    assert_eq!(
        code,
        Some(0),
        "provisioning the CPU runtime and model: {err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(cache.join("runtime")).unwrap();
    let shared = shared_cache();
    std::os::unix::fs::symlink(
        shared.join("official_models"),
        cache.join("official_models"),
    )
    .unwrap();
    let cpu_runtime = format!("onnxruntime-{}", paddlex::runtime::library::ORT_VERSION);
    std::os::unix::fs::symlink(
        shared.join("runtime").join(&cpu_runtime),
        cache.join("runtime").join(&cpu_runtime),
    )
    .unwrap();
    let driver = fake_driver(dir.path());
    let index = tampered_index(dir.path());
    let env = |fallback_off: bool| {
        let mut env = vec![
            ("PADDLE_PDX_CACHE_HOME", cache.to_str().unwrap()),
            ("LD_LIBRARY_PATH", driver.to_str().unwrap()),
            ("PIP_NO_INDEX", "1"),
            ("PIP_FIND_LINKS", index.to_str().unwrap()),
        ];
        if fallback_off {
            env.push(("PADDLE_PDX_DISABLE_DEVICE_FALLBACK", "1"));
        }
        env
    };

    let (code, err) = run(&["--device", "gpu:0"], &env(false));
    assert_eq!(code, Some(0), "{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("falling back to CPU"))
        .unwrap_or_else(|| panic!("no fallback warning: {err}"));
    assert!(
        warning.contains("gpu:0 was requested but CUDAExecutionProvider is not usable: the GPU runtime (onnxruntime-gpu 1.31.1 with CUDA 13 and cuDNN 9) could not be fetched"),
        "{warning}"
    );
    assert!(
        warning.contains(
            "Expected sha256 e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6"
        ),
        "{warning}"
    );
    assert!(err.contains("'label_names': ['270']"), "{err}");
    let left: Vec<String> = std::fs::read_dir(cache.join("runtime"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [cpu_runtime], "no GPU runtime, no staging folder");

    let (code, err) = run(&["--device", "gpu:0"], &env(true));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("could not be fetched")
            && err.contains("PADDLE_PDX_DISABLE_DEVICE_FALLBACK is set"),
        "{err}"
    );
}

#[test]
fn without_a_driver_nothing_is_fetched_for_the_gpu() {
    if std::path::Path::new("/proc/driver/nvidia/version").exists() {
        eprintln!("this machine has an NVIDIA driver: the no-driver case cannot be checked here");
        return;
    }
    let (code, err) = run(&["--device", "gpu:0"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("no NVIDIA driver was found"), "{err}");
    assert!(!err.contains("Fetching the GPU runtime"), "{err}");
    assert!(!shared_cache()
        .join("runtime")
        .join(format!(
            "onnxruntime-gpu-{}",
            paddlex::runtime::gpu::GPU_ORT_VERSION
        ))
        .exists());
}

/// A run that did not ask for a GPU never loads the NVIDIA driver library
/// (loading it runs its initialisers): glibc's loader trace names every
/// library a process looks for.
#[test]
fn a_default_run_does_not_load_the_gpu_driver() {
    let (dir, yaml) = setup();
    let out = pipeline_command(dir.path(), &yaml)
        .env("LD_DEBUG", "libs")
        .args(["--input", "imgs/doc_90.png"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("libonnxruntime"),
        "the loader trace is there: {err}"
    );
    assert!(!err.contains("libcuda.so"), "{err}");
}
