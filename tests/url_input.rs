//! http(s) URL inputs: downloaded into `<cache>/predict_input/`, classified
//! from there; HTTP errors are reported per input. The server runs on loopback.

mod common;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use common::files::{FileServer, Reply};
use common::*;

/// Serves `doc_0.png` at `/files/doc_0.png` and 404 elsewhere.
fn serve() -> String {
    FileServer::photos(&[("/files/doc_0.png", "doc_0.png")]).base
}

#[test]
fn a_url_is_downloaded_and_classified() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    let out = paddlex()
        .env("NO_PROXY", "127.0.0.1")
        .current_dir(dir.path())
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            &format!("{base}/files/doc_0.png"),
            "--save_path",
            "out",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let res = read_result(&dir.path().join("out/doc_0_res.json"));
    let local = std::path::PathBuf::from(&res.input_path);
    assert_eq!(local.file_name().unwrap(), "doc_0.png");
    assert_eq!(
        local.parent().unwrap().parent().unwrap(),
        shared_cache().join("predict_input")
    );
    assert_eq!(res.label_names, ["0"]);
    assert_eq!(
        std::fs::read(&local).unwrap(),
        std::fs::read(photo("doc_0.png")).unwrap()
    );
    // Written by the one atomic writer: the permissions of any new file
    // (0666 less the umask), not a temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let plain = dir.path().join("plain");
        std::fs::File::create(&plain).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&local), mode(&plain));
    }
}

#[test]
fn an_http_error_is_reported_for_that_input() {
    let base = serve();
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    let url = format!("{base}/files/missing.png");
    let out = paddlex()
        .env("NO_PROXY", "127.0.0.1")
        .args(["--pipeline", yaml.to_str().unwrap(), "--input", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("Error: {url}: download failed: HTTP 404")),
        "{err}"
    );
}

#[test]
fn two_urls_with_the_same_file_name_are_two_images() {
    let base =
        FileServer::photos(&[("/x/img.png", "doc_0.png"), ("/y/img.png", "doc_180.png")]).base;
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 2, "1");
    let out = paddlex()
        .env("NO_PROXY", "127.0.0.1")
        .current_dir(dir.path())
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            &format!("{base}/x/img.png"),
            &format!("{base}/y/img.png"),
            "--format",
            "jsonl",
            "--save_path",
            "out",
        ])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let labels: Vec<&str> = lines
        .iter()
        .map(|l| l["label_names"][0].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["0", "180"], "each URL classified as its own image");
    let paths: Vec<&str> = lines
        .iter()
        .map(|l| l["input_path"].as_str().unwrap())
        .collect();
    assert_ne!(paths[0], paths[1], "each downloaded to its own file");
    for (path, photo_name) in paths.iter().zip(["doc_0.png", "doc_180.png"]) {
        assert!(path.ends_with("/img.png"), "{path}");
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(photo(photo_name)).unwrap()
        );
    }
    assert!(
        err.contains(&format!(
            "{} overwrites the result of {}: both write",
            paths[1], paths[0]
        )),
        "the outputs share PaddleX's names: {err}"
    );
}

/// Serves `/fast/doc_0.png` at once and holds `/slow/doc_180.png` until
/// `release` fires (or 60 s pass); the flag tells whether it timed out.
fn serve_gated(
    release: std::sync::mpsc::Receiver<()>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let timed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = timed_out.clone();
    let gate = std::sync::Mutex::new(Some(release));
    let server = FileServer::start(move |path, _| {
        let name = if path == "/slow/doc_180.png" {
            let held = gate.lock().unwrap().take();
            if let Some(held) = held {
                if held.recv_timeout(Duration::from_secs(60)).is_err() {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            "doc_180.png"
        } else {
            "doc_0.png"
        };
        Some(Reply::ok(std::fs::read(photo(name)).unwrap()))
    });
    (server.base, timed_out)
}

/// `paddlex` on the gated server's fast URL then its slow one, JSON lines on
/// a pipe, started in `dir`.
fn spawn_fast_then_slow(base: &str, dir: &std::path::Path) -> std::process::Child {
    let yaml = pipeline_yaml(dir, "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    std::process::Command::new(assert_cmd::cargo::cargo_bin("paddlex"))
        .env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("ORT_DYLIB_PATH")
        .current_dir(dir)
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            &format!("{base}/fast/doc_0.png"),
            &format!("{base}/slow/doc_180.png"),
            "--format",
            "jsonl",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn urls_are_downloaded_as_the_run_goes_not_all_before_it() {
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let (base, timed_out) = serve_gated(release_rx);
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_fast_then_slow(&base, dir.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The first URL's result comes while the second is still downloading.
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let _ = release_tx.send(());
    assert!(
        !timed_out.load(std::sync::atomic::Ordering::SeqCst),
        "the first result waited for every download"
    );
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["label_names"][0], "0");
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["label_names"][0], "180");
    assert!(child.wait().unwrap().success());
}

#[test]
fn sigint_during_a_stalled_download_ends_the_run_promptly() {
    let (_hold, release_rx) = std::sync::mpsc::channel::<()>();
    let (base, _) = serve_gated(release_rx);
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_fast_then_slow(&base, dir.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(!first.is_empty(), "no first result");
    // The second download is held by the server (for 60 s).
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("still waiting for the stalled download 20 s after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("SIGINT: stopped taking inputs"), "{err}");
    assert!(err.contains("Done: 1 processed, 0 failed"), "{err}");
}
