//! Paddle-format models: the native converter against Paddle Inference's own
//! outputs (`tests/data/paddle`, made by its `generate.py`), the
//! `--paddle2onnx` command, and Paddle-only model directories in the
//! pipeline.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Once;

use common::{paddlex, pipeline_yaml, shared_cache, stderr_of};
use ort::session::Session;
use ort::value::Tensor;
use paddle2onnx::{convert_dir, Options};

/// A fixture folder's `case.json`.
#[derive(Debug, serde::Deserialize)]
struct Case {
    input_name: String,
    input_shape: Vec<usize>,
    output_name: String,
    output_shape: Vec<usize>,
    tolerance: f64,
    ops: Vec<String>,
}

fn fixtures() -> PathBuf {
    common::data_dir().join("paddle")
}

fn cases() -> Vec<(String, Case)> {
    let mut out: Vec<(String, Case)> = std::fs::read_dir(fixtures())
        .expect("tests/data/paddle")
        .filter_map(|e| {
            let dir = e.ok()?.path();
            let text = std::fs::read_to_string(dir.join("case.json")).ok()?;
            let case = serde_json::from_str(&text).expect("case.json");
            Some((dir.file_name()?.to_string_lossy().into_owned(), case))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 20, "fixtures missing: {}", out.len());
    out
}

fn f32s(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// ONNX Runtime through the project's own provisioning, into the tests' cache.
fn ort_session(model: &[u8]) -> Session {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // Set before any thread reads it: every test here goes through INIT.
        std::env::set_var("PADDLE_PDX_CACHE_HOME", shared_cache());
        std::env::remove_var("ORT_DYLIB_PATH");
    });
    let env = paddlex::runtime::library::environment().expect("ONNX Runtime");
    Session::builder(env)
        .expect("session builder")
        .commit_from_memory(model)
        .expect("ONNX Runtime accepts the converted model")
}

fn run(
    session: &mut Session,
    input: &str,
    shape: &[usize],
    data: Vec<f32>,
) -> (Vec<i64>, Vec<f32>) {
    let tensor = Tensor::from_array((shape.to_vec(), data)).expect("input tensor");
    let outputs = session.run(ort::inputs![input => tensor]).expect("run");
    let (shape, values) = outputs[0].try_extract_tensor::<f32>().expect("f32 output");
    (shape.to_vec(), values.to_vec())
}

fn convert(dir: &Path, opset: i64) -> Vec<u8> {
    let mut onnx = Vec::new();
    let options = Options {
        opset,
        ..Options::default()
    };
    convert_dir(dir, &options, &mut onnx).unwrap_or_else(|e| panic!("{e}"));
    onnx
}

/// Converts `name` at `opset`, runs it, returns max |Δ| against Paddle Inference.
fn max_diff(name: &str, case: &Case, opset: i64) -> f64 {
    let dir = fixtures().join(name);
    let mut session = ort_session(&convert(&dir, opset));
    assert_eq!(session.inputs()[0].name(), case.input_name, "{name}");
    assert_eq!(session.outputs()[0].name(), case.output_name, "{name}");
    let (shape, got) = run(
        &mut session,
        &case.input_name,
        &case.input_shape,
        f32s(&dir.join("input.bin")),
    );
    let want = f32s(&dir.join("expected.bin"));
    let want_shape: Vec<i64> = case.output_shape.iter().map(|&d| d as i64).collect();
    assert_eq!(shape, want_shape, "{name}");
    got.iter()
        .zip(&want)
        .map(|(a, b)| f64::from((a - b).abs()))
        .fold(0.0, f64::max)
}

#[test]
fn every_fixture_matches_paddle_inference() {
    let mut failures = Vec::new();
    for (name, case) in cases() {
        let diff = max_diff(&name, &case, paddle2onnx::DEFAULT_OPSET);
        eprintln!(
            "{name}: max |Δ| {diff:.3e} (tolerance {:.1e})",
            case.tolerance
        );
        if diff > case.tolerance {
            failures.push(format!("{name}: {diff:.3e} > {:.1e}", case.tolerance));
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn the_fixtures_cover_every_family_and_both_paddle_releases() {
    let cases = cases();
    let names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    for family in [
        "pplcnet",
        "pplcnetv2",
        "pphgnet",
        "pphgnetv2",
        "resnet",
        "resnet_vd",
        "mobilenetv1",
        "mobilenetv2",
        "mobilenetv3",
        "mobilenetv4_conv",
        "mobilenetv4_hybrid",
        "starnet",
        "fasternet",
        "convnext",
        "swin",
        "clip_vit",
        "traps",
    ] {
        assert!(
            names.contains(&format!("{family}_p33").as_str()),
            "{family}"
        );
    }
    for twin in [
        "pplcnet_p30",
        "resnet_vd_p30",
        "pphgnetv2_p30",
        "swin_p30",
        "traps_p30",
        "ch_ppocr_cls_legacy",
    ] {
        assert!(names.contains(&twin), "{twin}");
    }
    // The traps the converter must get right are in the programs.
    let ops = |name: &str| &cases.iter().find(|(n, _)| n == name).unwrap().1.ops;
    for op in [
        "1.dropout",
        "1.hardsigmoid",
        "1.pool2d",
        "1.split",
        "0.split",
    ] {
        assert!(ops("traps_p33").iter().any(|o| o == op), "{op}");
    }
    for op in [
        "1.roll",
        "1.set_value_",
        "1.index_select",
        "1.strided_slice",
    ] {
        assert!(ops("swin_p33").iter().any(|o| o == op), "{op}");
    }
}

#[test]
fn other_opsets_give_the_same_numbers() {
    // Opset 13 exercises the hand-written LayerNorm and attribute axes;
    // 18 and up the input axes of the reductions.
    let cases = cases();
    for name in ["traps_p33", "swin_p33", "convnext_p33", "pplcnet_p30"] {
        let case = &cases.iter().find(|(n, _)| n == name).unwrap().1;
        for opset in [13, 18, 21] {
            let diff = max_diff(name, case, opset);
            assert!(
                diff <= case.tolerance,
                "{name} at opset {opset}: {diff:.3e}"
            );
        }
    }
}

fn copy_model(from: &str, to: &Path, files: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for f in files {
        std::fs::copy(fixtures().join(from).join(f), to.join(f)).unwrap();
    }
}

/// The error converting `dir` gives (it must fail).
fn conversion_error(dir: &Path) -> String {
    let mut out = Vec::new();
    match convert_dir(dir, &Options::default(), &mut out) {
        Ok(summary) => panic!("{} converted: {summary:?}", dir.display()),
        Err(e) => e.to_string(),
    }
}

/// A copy of fixture `case` (program and weights) in `dir` with its
/// `inference.json` text passed through `edit`.
fn edited_copy(case: &str, dir: &Path, edit: impl FnOnce(String) -> String) {
    copy_model(case, dir, &["inference.json", "inference.pdiparams"]);
    let json = std::fs::read_to_string(dir.join("inference.json")).unwrap();
    std::fs::write(dir.join("inference.json"), edit(json)).unwrap();
}

#[test]
fn an_unknown_operator_is_named_with_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    edited_copy("traps_p33", &dir, |json| {
        json.replacen("\"1.relu6\"", "\"1.frobnicate\"", 1)
    });
    let err = conversion_error(&dir);
    assert!(
        err.contains("frobnicate") && err.contains("inference.json"),
        "{err}"
    );

    // An attribute value without an exact translation is refused too.
    edited_copy("traps_p33", &dir, |json| {
        json.replacen("\"upscale_in_train\"", "\"sideways\"", 1)
            .replacen("\"downgrade_in_infer\"", "\"sideways\"", 1)
    });
    let err = conversion_error(&dir);
    assert!(
        err.contains("`dropout`") && err.contains("sideways"),
        "{err}"
    );
}

#[test]
fn damaged_or_mismatched_weights_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    copy_model(
        "pplcnet_p33",
        &dir,
        &["inference.json", "inference.pdiparams"],
    );
    let params = std::fs::read(dir.join("inference.pdiparams")).unwrap();

    std::fs::write(
        dir.join("inference.pdiparams"),
        &params[..params.len() - 10],
    )
    .unwrap();
    let err = conversion_error(&dir);
    assert!(
        err.contains("inference.pdiparams") && err.contains("truncated"),
        "{err}"
    );

    let mut longer = params.clone();
    longer.extend_from_slice(&[0; 3]);
    std::fs::write(dir.join("inference.pdiparams"), &longer).unwrap();
    let err = conversion_error(&dir);
    assert!(err.contains("3 bytes follow the last parameter"), "{err}");

    // Another model's weights.
    std::fs::copy(
        fixtures().join("resnet_p33/inference.pdiparams"),
        dir.join("inference.pdiparams"),
    )
    .unwrap();
    let err = conversion_error(&dir);
    assert!(err.contains("does not belong to this program"), "{err}");

    // A program that is not one.
    std::fs::write(dir.join("inference.json"), &params[..4096]).unwrap();
    let err = conversion_error(&dir);
    assert!(err.contains("inference.json"), "{err}");
}

#[test]
fn paddle2onnx_command_writes_the_model_and_copies_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("onnx");
    let src = fixtures().join("pplcnet_p33");
    let out = paddlex()
        .args(["--paddle2onnx", "--paddle_model_dir"])
        .arg(&src)
        .arg("--onnx_model_dir")
        .arg(&out_dir)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    for line in [
        format!("Input dir: {}", src.display()),
        format!("Output dir: {}", out_dir.display()),
        "Paddle2ONNX conversion starting...".into(),
        "Paddle2ONNX conversion succeeded".into(),
        format!(
            "Copied {} to {}",
            src.join("inference.yml").display(),
            out_dir.join("inference.yml").display()
        ),
        "Done".into(),
    ] {
        assert!(
            err.lines().any(|l| l == line),
            "missing `{line}` in:\n{err}"
        );
    }
    assert_eq!(
        std::fs::read(out_dir.join("inference.yml")).unwrap(),
        std::fs::read(src.join("inference.yml")).unwrap()
    );
    let onnx = std::fs::read(out_dir.join("inference.onnx")).unwrap();
    let case = cases()
        .into_iter()
        .find(|(n, _)| n == "pplcnet_p33")
        .unwrap()
        .1;
    let mut session = ort_session(&onnx);
    let (_, got) = run(
        &mut session,
        "x",
        &case.input_shape,
        f32s(&src.join("input.bin")),
    );
    let want = f32s(&src.join("expected.bin"));
    assert!(got
        .iter()
        .zip(&want)
        .all(|(a, b)| f64::from((a - b).abs()) <= case.tolerance));

    // PaddleX's checks, exit 1.
    let missing = tmp.path().join("nope");
    let out = paddlex()
        .args(["--paddle2onnx", "--paddle_model_dir"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains(&format!("{} does not exist", missing.display())));
    let no_yml = fixtures().join("resnet_p33");
    let out = paddlex()
        .args(["--paddle2onnx", "--paddle_model_dir"])
        .arg(&no_yml)
        .arg("--onnx_model_dir")
        .arg(tmp.path().join("r"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("inference.yml does not exist"));
    assert!(!tmp.path().join("r").exists());
    let out = paddlex().arg("--paddle2onnx").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("Input directory must be specified"));
}

/// `photos.json`: Paddle Inference's scores per photo.
#[derive(Debug, serde::Deserialize)]
struct PhotoRef {
    class_ids: Vec<i64>,
    scores: Vec<f64>,
}

fn jsonl_rows(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("jsonl line"))
        .collect()
}

#[test]
fn paddle_only_model_dir_gives_paddle_inference_scores() {
    // The genuinely trained legacy model (inference.pdmodel), no ONNX in the folder.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cls");
    copy_model(
        "ch_ppocr_cls_legacy",
        &dir,
        &["inference.pdmodel", "inference.pdiparams", "inference.yml"],
    );
    let yaml = pipeline_yaml(tmp.path(), "ch_ppocr_mobile_v2.0_cls", Some(&dir), 2, "2");
    let refs: std::collections::BTreeMap<String, PhotoRef> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("ch_ppocr_cls_legacy/photos.json")).unwrap(),
    )
    .unwrap();
    let photos: Vec<PathBuf> = refs.keys().map(|n| common::photo(n)).collect();
    let run_once = || {
        let out = paddlex()
            .arg("--pipeline")
            .arg(&yaml)
            .arg("--input")
            .args(&photos)
            .args(["--format", "jsonl"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        out
    };
    let first = run_once();
    assert!(
        stderr_of(&first).contains("Converted the Paddle model"),
        "{}",
        stderr_of(&first)
    );
    assert!(dir.join("inference.onnx").is_file());
    for row in jsonl_rows(&first.stdout) {
        let name = Path::new(row["input_path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let want = &refs[&name];
        let ids: Vec<i64> = row["class_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(ids, want.class_ids, "{name}");
        for (got, want) in row["scores"].as_array().unwrap().iter().zip(&want.scores) {
            let got = got.as_f64().unwrap();
            assert!((got - want).abs() <= 1e-5, "{name}: {got} vs {want}");
        }
    }
    // The second run reuses the conversion.
    let second = run_once();
    assert!(!stderr_of(&second).contains("Converted the Paddle model"));
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn conversion_on_first_use_is_cached_per_model_and_redone_when_it_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dir = tmp.path().join("m");
    copy_model(
        "pplcnet_p33",
        &dir,
        &["inference.json", "inference.pdiparams", "inference.yml"],
    );
    let yaml = pipeline_yaml(tmp.path(), "pplcnet_p33", Some(&dir), 1, "3");
    let photo = common::photo("chelsea.png");
    // A cache of its own (to see what lands in it), with the shared runtime.
    ort_session(&convert(&fixtures().join("traps_p33"), 17));
    let runtime = paddlex::runtime::library::cached_library_path();
    let classify = || {
        paddlex()
            .env("PADDLE_PDX_CACHE_HOME", &cache)
            .env("ORT_DYLIB_PATH", &runtime)
            .arg("--pipeline")
            .arg(&yaml)
            .arg("--input")
            .arg(&photo)
            .args(["--format", "jsonl"])
            .output()
            .unwrap()
    };
    // Two processes at once on a fresh folder: both succeed, one model.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(classify);
        let b = s.spawn(classify);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(
        a.status.success() && b.status.success(),
        "{}{}",
        stderr_of(&a),
        stderr_of(&b)
    );
    assert_eq!(a.stdout, b.stdout);
    let converted = [&a, &b]
        .iter()
        .filter(|o| stderr_of(o).contains("Converted the Paddle model"))
        .count();
    assert_eq!(converted, 1);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Another model's files in the same folder: converted again.
    copy_model(
        "pplcnet_p30",
        &dir,
        &["inference.json", "inference.pdiparams"],
    );
    let c = classify();
    assert!(c.status.success(), "{}", stderr_of(&c));
    assert!(stderr_of(&c).contains("Converted the Paddle model"));
    assert_ne!(c.stdout, a.stdout);

    // A folder where inference.onnx cannot be written (here: a directory is
    // in its way; read-only folders take the same path): converted into the
    // cache instead, once.
    let blocked = tmp.path().join("blocked");
    copy_model(
        "swin_p33",
        &blocked,
        &["inference.json", "inference.pdiparams"],
    );
    let yml = std::fs::read_to_string(dir.join("inference.yml")).unwrap();
    std::fs::write(
        blocked.join("inference.yml"),
        yml.replace("pplcnet_p33", "swin_p33"),
    )
    .unwrap();
    std::fs::create_dir(blocked.join("inference.onnx")).unwrap();
    let yaml = pipeline_yaml(tmp.path(), "swin_p33", Some(&blocked), 1, "3");
    let run_blocked = || {
        paddlex()
            .env("PADDLE_PDX_CACHE_HOME", &cache)
            .env("ORT_DYLIB_PATH", &runtime)
            .arg("--pipeline")
            .arg(&yaml)
            .arg("--input")
            .arg(&photo)
            .output()
            .unwrap()
    };
    let out = run_blocked();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&cache.join("converted").display().to_string()),
        "{err}"
    );
    let again = run_blocked();
    assert!(again.status.success());
    assert!(!stderr_of(&again).contains("Converted the Paddle model"));
}
