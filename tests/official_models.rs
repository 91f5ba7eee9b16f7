//! PaddleX's official models fetched by name: `<name>_infer.tar` from the
//! mirror (`PADDLEX_RS_MODEL_MIRROR`, here a loopback HTTP server or a local
//! folder) into an empty cache, converted on first use and run; refused
//! archives and cut transfers leave nothing in the cache. The archives are
//! built here from the converter's fixture (`tests/data/paddle/pplcnet_p33`),
//! its `inference.yml` renamed to the official model. Every test has its own
//! cache; nothing but loopback is contacted (the ONNX Runtime library comes
//! from `ORT_DYLIB_PATH` or the tests' shared cache).

mod common;
#[path = "official_models/mirror.rs"]
mod mirror;

use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use common::server::path_str;
use common::*;
use mirror::{MirrorServer, Reply};
use tar::EntryType;

/// PaddleX's default classifier.
const MODEL: &str = "PP-LCNet_x0_5";

fn archive_name() -> String {
    format!("{MODEL}_infer.tar")
}

fn fixture() -> PathBuf {
    data_dir().join("paddle/pplcnet_p33")
}

/// The fixture's `inference.yml`, naming `name`.
fn renamed_yml(name: &str) -> Vec<u8> {
    let yml = std::fs::read_to_string(fixture().join("inference.yml")).unwrap();
    assert!(yml.contains("model_name: pplcnet_p33"));
    yml.replace("model_name: pplcnet_p33", &format!("model_name: {name}"))
        .into_bytes()
}

/// A tar header written raw (the builder refuses `..` and absolute paths).
fn raw_header(path: &str, kind: EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

/// `<MODEL>_infer.tar` as PaddleX publishes it (one folder, three files),
/// then `extra` appended (a bad member, after good ones were extracted).
fn model_tar_with(extra: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let top = format!("{MODEL}_infer");
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &raw_header(&format!("{top}/"), EntryType::Directory, 0),
        &[][..],
    )
    .unwrap();
    let files = [
        (
            "inference.json",
            std::fs::read(fixture().join("inference.json")).unwrap(),
        ),
        (
            "inference.pdiparams",
            std::fs::read(fixture().join("inference.pdiparams")).unwrap(),
        ),
        ("inference.yml", renamed_yml(MODEL)),
    ];
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("{top}/{name}"), bytes.as_slice())
            .unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap()
}

fn model_tar() -> Vec<u8> {
    model_tar_with(|_| {})
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH`, else the one in the tests'
/// shared cache (provisioned there once, like every test of the suite does,
/// by loading the fixture from a local model_dir).
fn runtime() -> PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        if let Some(lib) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
            return lib.into();
        }
        let lib = shared_cache().join("runtime/onnxruntime-1.32.0/libonnxruntime.so.1.32.0");
        if !lib.is_file() {
            let dir = tempfile::tempdir().unwrap();
            let model = dir.path().join("model");
            std::fs::create_dir_all(&model).unwrap();
            for f in ["inference.json", "inference.pdiparams", "inference.yml"] {
                std::fs::copy(fixture().join(f), model.join(f)).unwrap();
            }
            let yaml = pipeline_yaml(dir.path(), "pplcnet_p33", Some(&model), 1, "5");
            paddlex()
                .args(["--pipeline", path_str(&yaml), "--device", "cpu"])
                .assert()
                .success();
        }
        assert!(lib.is_file(), "no runtime at {}", lib.display());
        lib
    })
    .clone()
}

/// The binary with its own cache and the mirror, nothing else from the
/// environment that could reach past loopback.
fn paddlex_with(cache: &Path, mirror: &str) -> Command {
    let mut cmd = Command::cargo_bin("paddlex").expect("binary built");
    cmd.env("PADDLE_PDX_CACHE_HOME", cache)
        .env("PADDLEX_RS_MODEL_MIRROR", mirror)
        .env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1")
        .env("NO_COLOR", "1")
        .env_remove("PADDLE_PDX_MODEL_SOURCE")
        .env_remove("ORT_DYLIB_PATH")
        .timeout(Duration::from_secs(300));
    cmd
}

/// Arguments classifying chelsea.png with `MODEL` on the CPU.
fn classify_args(dir: &Path) -> Vec<String> {
    let yaml = pipeline_yaml(dir, MODEL, None, 1, "5");
    [
        "--pipeline",
        path_str(&yaml),
        "--input",
        path_str(&photo("chelsea.png")),
        "--device",
        "cpu",
    ]
    .map(String::from)
    .to_vec()
}

/// The printed result line.
fn result_line(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.starts_with("{'res': "))
        .unwrap_or_else(|| panic!("no result line:\n{stderr}"))
        .to_string()
}

/// Asserts the cache holds nothing but lock files (and an empty
/// `official_models` folder).
fn assert_cache_clean(cache: &Path) {
    let models = cache.join("official_models");
    if models.exists() {
        let left: Vec<_> = std::fs::read_dir(&models)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left in the cache: {left:?}");
    }
    for entry in std::fs::read_dir(cache).into_iter().flatten() {
        let name = entry.unwrap().file_name();
        assert!(
            name == "locks" || name == "official_models",
            "left in the cache: {name:?}"
        );
    }
}

/// Serves `reply` as the model's archive, runs a prediction on an empty
/// cache, and checks the one-line error and the clean cache.
fn assert_refused(reply: Reply, expected: &str) {
    let server = MirrorServer::start(vec![(archive_name(), reply)], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = paddlex_with(&cache, &server.base)
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let url = format!("{}/{}", server.base, archive_name());
    let line = err
        .lines()
        .find(|l| l.starts_with("Cannot fetch the official model"))
        .unwrap_or_else(|| panic!("no error line:\n{err}"));
    assert!(
        line.starts_with(&format!(
            "Cannot fetch the official model {MODEL} from {url}: "
        )),
        "{line}"
    );
    assert!(line.contains(expected), "want {expected:?} in: {line}");
    assert!(
        line.contains("PADDLEX_RS_MODEL_MIRROR") && line.contains("model_dir"),
        "{line}"
    );
    assert_cache_clean(&cache);
}

#[test]
fn an_empty_cache_fetches_converts_classifies_then_works_without_the_server() {
    let runtime = runtime();
    let server = MirrorServer::start(
        vec![(archive_name(), Reply::Full(model_tar()))],
        Duration::ZERO,
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let model_dir = cache.join("official_models").join(MODEL);

    let out = paddlex_with(&cache, &server.base)
        .env("ORT_DYLIB_PATH", &runtime)
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    for line in [
        format!("Creating model: ('{MODEL}', None)"),
        format!(
            "Using official model ({MODEL}), the model files will be automatically downloaded and saved in `{}`.",
            model_dir.display()
        ),
        format!("Connecting to {}/{} ...", server.base, archive_name()),
        format!("Downloading {} ...", archive_name()),
    ] {
        assert!(err.contains(&line), "want {line:?} in:\n{err}");
    }
    assert!(err.contains("Converted the Paddle model"), "{err}");
    let first = result_line(&err);
    assert!(first.contains("'label_names': ['class_"), "{first}");
    assert_eq!(server.hits(), 1);
    let mut files: Vec<String> = std::fs::read_dir(&model_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "inference.json",
            "inference.onnx",
            "inference.onnx.paddle2onnx",
            "inference.pdiparams",
            "inference.yml"
        ]
    );
    let models: Vec<_> = std::fs::read_dir(cache.join("official_models"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(models, [MODEL], "no staging folder left");

    let list = paddlex_with(&cache, &server.base)
        .arg("--list_models")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("{MODEL} ")))
        .unwrap();
    assert!(
        row.ends_with(" yes    mirror (Paddle format, converted on first use)"),
        "{row}"
    );
    assert!(
        text.contains(&format!("from the mirror {}", server.base)),
        "{text}"
    );

    drop(server);
    let out = paddlex_with(&cache, "http://127.0.0.1:9/gone")
        .env("ORT_DYLIB_PATH", &runtime)
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "Model files already exist. Using cached files. To redownload, please delete the directory manually: `{}`.",
            model_dir.display()
        )),
        "{err}"
    );
    assert!(
        !err.contains("Connecting to") && !err.contains("Converted"),
        "{err}"
    );
    assert_eq!(result_line(&err), first);
}

#[test]
fn a_cut_transfer_leaves_nothing() {
    let body = model_tar();
    let sent = body.len() / 2;
    assert_refused(
        Reply::Cut { body, sent },
        "the transfer was cut short after",
    );
}

#[test]
fn a_corrupt_archive_leaves_nothing() {
    let mut body = model_tar();
    // Inside the first member's header: its checksum no longer matches.
    body[100] ^= 0x5a;
    assert_refused(Reply::Full(body), "not a valid tar archive");
}

#[test]
fn a_member_reaching_outside_its_folder_leaves_nothing() {
    let body = model_tar_with(|b| {
        let path = format!("{MODEL}_infer/../escaped.txt");
        b.append(&raw_header(&path, EntryType::Regular, 4), &b"evil"[..])
            .unwrap();
    });
    assert_refused(
        Reply::Full(body),
        &format!("the archive member {MODEL}_infer/../escaped.txt reaches outside its folder"),
    );
}

#[test]
fn a_symlink_member_leaves_nothing() {
    let body = model_tar_with(|b| {
        let mut h = raw_header(&format!("{MODEL}_infer/link"), EntryType::Symlink, 0);
        h.set_link_name("/etc/passwd").unwrap();
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    });
    assert_refused(
        Reply::Full(body),
        &format!("the archive member {MODEL}_infer/link is a symbolic link"),
    );
}

#[test]
fn a_member_over_the_size_cap_leaves_nothing() {
    let body = model_tar_with(|b| {
        // The header claims 2 GiB + 1; the check comes before any byte is read.
        let h = raw_header(
            &format!("{MODEL}_infer/huge.bin"),
            EntryType::Regular,
            (2 << 30) + 1,
        );
        b.append(&h, &b"x"[..]).unwrap();
    });
    assert_refused(
        Reply::Full(body),
        "is 2147483649 bytes, over the 2147483648-byte limit per file",
    );
}

#[test]
fn a_missing_archive_names_the_http_status() {
    let server = MirrorServer::start(vec![], Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = paddlex_with(&cache, &server.base)
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(": HTTP 404 Not Found. Nothing was saved"),
        "{err}"
    );
    assert_cache_clean(&cache);
}

#[test]
fn two_processes_fetching_the_same_model_both_succeed() {
    let runtime = runtime();
    // A slow answer, so the second process asks while the first downloads.
    let server = MirrorServer::start(
        vec![(archive_name(), Reply::Full(model_tar()))],
        Duration::from_millis(700),
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let args = classify_args(dir.path());
    let spawn = || {
        StdCommand::new(env!("CARGO_BIN_EXE_paddlex"))
            .args(&args)
            .env("PADDLE_PDX_CACHE_HOME", &cache)
            .env("PADDLEX_RS_MODEL_MIRROR", &server.base)
            .env("ORT_DYLIB_PATH", &runtime)
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1")
            .env("NO_COLOR", "1")
            .env_remove("PADDLE_PDX_MODEL_SOURCE")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let mut results = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        let err = stderr_of(&out);
        assert!(out.status.success(), "{err}");
        results.push(result_line(&err));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(server.hits(), 1, "the second process waited for the first");
    let models: Vec<_> = std::fs::read_dir(cache.join("official_models"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(models, [MODEL]);
}

#[test]
fn a_local_folder_mirror() {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mirror");
    std::fs::create_dir_all(&folder).unwrap();
    let cache = dir.path().join("cache");

    // Without the archive: a clear error naming the file.
    let out = paddlex_with(&cache, path_str(&folder))
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let expected = format!(
        "Cannot fetch the official model {MODEL} from {}: no such file.",
        folder.join(archive_name()).display()
    );
    assert!(err.contains(&expected), "{err}");
    assert_cache_clean(&cache);

    std::fs::write(folder.join(archive_name()), model_tar()).unwrap();
    let out = paddlex_with(&cache, &format!("file://{}", folder.display()))
        .env("ORT_DYLIB_PATH", &runtime)
        .args(classify_args(dir.path()))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("Connecting to"), "{err}");
    assert!(
        result_line(&err).contains("'label_names': ['class_"),
        "{err}"
    );
    assert!(cache
        .join("official_models")
        .join(MODEL)
        .join("inference.onnx")
        .is_file());
    // The mirror's archive is left as it was.
    assert_eq!(
        std::fs::read(folder.join(archive_name())).unwrap(),
        model_tar()
    );
}
