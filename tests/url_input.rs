//! http(s) URL inputs: downloaded into `<cache>/predict_input/`, classified
//! from there; HTTP errors are reported per input. The server runs on loopback.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::*;

/// Serves `doc_0.png` at `/doc_0.png` and 404 elsewhere, for `requests` connections.
fn serve(requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let png = std::fs::read(photo("doc_0.png")).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body): (&str, &[u8]) = if path == "/files/doc_0.png" {
                ("200 OK", &png)
            } else {
                ("404 Not Found", b"nope")
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_url_is_downloaded_and_classified() {
    let base = serve(1);
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
    let local = shared_cache().join("predict_input/doc_0.png");
    assert_eq!(res.input_path, local.to_string_lossy());
    assert_eq!(res.label_names, ["0"]);
    assert_eq!(
        std::fs::read(local).unwrap(),
        std::fs::read(photo("doc_0.png")).unwrap()
    );
}

#[test]
fn an_http_error_is_reported_for_that_input() {
    let base = serve(1);
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
