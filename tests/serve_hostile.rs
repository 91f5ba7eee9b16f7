//! `paddlex --serve` against hostile clients, on loopback: images declaring
//! huge sizes, many large images at once (the server's peak resident memory
//! read from /proc), clients that trickle their body or their headers,
//! 404 / 405 requests declaring huge bodies, a stdout nobody reads, and the
//! URL policy. Bounds on time are generous: they tell a stuck server from a
//! working one, not a fast one from a slow one.

mod common;

use std::io::{Cursor, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use common::files::{self, FileServer};
use common::server::*;
use common::*;
use serde_json::{json, Value};

fn start(envs: &[(&str, &str)]) -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 4, "5");
    let server = TestServer::start(path_str(&yaml), envs);
    (dir, server)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A real `side` x `side` grey-gradient PNG (compresses well).
fn big_png(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, _| {
        let v = (x % 256) as u8;
        image::Rgb([v, v, v])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// POSTs the same body from `n` threads at once.
fn concurrent_posts(server: &TestServer, body: &str, n: usize) -> Vec<Reply> {
    let url = format!("{}/image-classification", server.base);
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (url, body) = (url.clone(), body.to_string());
            std::thread::spawn(move || Reply::from(client().post(url).body(body).send().unwrap()))
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn images_over_the_pixel_cap_get_a_clear_422_without_decoding() {
    let (_dir, server) = start(&[]);
    let png = png_declaring(13000, 13000);
    assert!(png.len() > 500_000 && png.len() < 600_000);
    let body = json!({"image": b64(&png), "logId": "big"}).to_string();
    let rss_before = server.rss_kib();
    server.reset_peak();
    let replies = concurrent_posts(&server, &body, 16);
    for reply in &replies {
        assert_eq!(reply.status, 422, "{}", reply.body);
        let v = reply.json();
        assert_eq!(v["logId"], "big");
        let msg = v["errorMsg"].as_str().unwrap();
        assert!(
            msg.contains("13000x13000") && msg.contains("limit of 50000000 pixels"),
            "{msg}"
        );
    }
    // 16 decodes would need 16 x 507 MB.
    let grown = server.peak_kib().saturating_sub(rss_before);
    assert!(grown < 300 * 1024, "peak grew by {grown} KiB");

    // The cap is configurable, and stays clear for other formats.
    let (_dir2, small_cap) = start(&[("PADDLEX_RS_SERVE_MAX_PIXELS", "10000")]);
    let reply = small_cap.post(
        "/image-classification",
        json!({"image": photo_b64("doc_0.png")}).to_string(),
    );
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(
        reply.body.contains("limit of 10000 pixels"),
        "{}",
        reply.body
    );
}

#[test]
fn concurrent_large_images_stay_within_the_decode_budget() {
    // 2500 x 2500 RGB: 19 MB decoded, twice that with the visualisation.
    let png = big_png(2500);
    let body = json!({"image": b64(&png)}).to_string();
    let (_dir, server) = start(&[
        ("PADDLEX_RS_SERVE_DECODE_BUDGET_MB", "64"),
        ("PADDLEX_RS_SERVE_DECODE_THREADS", "4"),
    ]);
    // Warm up (model arena, thread stacks) on a small image.
    let warm = server.post(
        "/image-classification",
        json!({"image": photo_b64("doc_0.png")}).to_string(),
    );
    assert_eq!(warm.status, 200, "{}", warm.body);
    let rss_before = server.rss_kib();
    server.reset_peak();
    let replies = concurrent_posts(&server, &body, 16);
    for reply in &replies {
        assert_eq!(
            reply.status,
            200,
            "{}",
            &reply.body[..reply.body.len().min(300)]
        );
        assert!(reply.json()["result"]["image"].is_string());
    }
    // Without the budget the 16 decoded images (19 MB each) wait for
    // inference and rendering together: > 300 MB. With it, one at a time
    // (each reserves 56 MB of the 64).
    let grown = server.peak_kib().saturating_sub(rss_before);
    eprintln!("peak grew by {} MiB", grown / 1024);
    assert!(
        grown < 160 * 1024,
        "peak grew by {} MiB with a 64 MiB budget",
        grown / 1024
    );
}

/// A client that sends headers declaring `length` bytes of body, then one
/// byte every `every` until `stop` (or a write fails).
fn trickler(addr: &str, length: usize, every: Duration, stop: Arc<AtomicBool>) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /image-classification HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(every);
            if writer.write_all(b" ").is_err() {
                break;
            }
        }
    });
    stream
}

/// The status code of the first response on `stream`, reading for at most
/// `limit`; `None` when nothing came.
fn read_status(stream: &mut TcpStream, limit: Duration) -> Option<u16> {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace().nth(1).and_then(|s| s.parse().ok())
}

#[test]
fn trickling_bodies_do_not_starve_a_normal_request_and_time_out() {
    let (_dir, server) = start(&[
        ("PADDLEX_RS_SERVE_MAX_PENDING", "2"),
        ("PADDLEX_RS_SERVE_BODY_TIMEOUT_S", "4"),
    ]);
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            trickler(
                &server.addr(),
                100_000,
                Duration::from_millis(300),
                stop.clone(),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Twenty clients are sending bodies; two admission slots; a normal request gets through.
    let started = Instant::now();
    let ok = server.post(
        "/image-classification",
        json!({"image": photo_b64("doc_0.png"), "visualize": false}).to_string(),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(started.elapsed() < Duration::from_secs(20));
    // The slow bodies are refused once their time is up.
    for stream in slow.iter_mut().take(3) {
        assert_eq!(read_status(stream, Duration::from_secs(30)), Some(408));
    }
    stop.store(true, Ordering::Relaxed);
}

#[test]
fn slow_headers_are_cut_off() {
    let (_dir, server) = start(&[("PADDLEX_RS_SERVE_HEADER_TIMEOUT_S", "2")]);
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .write_all(b"POST /image-classification HTTP/1.1\r\n")
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_writer = stop.clone();
    std::thread::spawn(move || {
        let mut i = 0;
        while !stop_writer.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(300));
            i += 1;
            if writer
                .write_all(format!("X-{i}: a\r\n").as_bytes())
                .is_err()
            {
                break;
            }
        }
    });
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 256];
    let outcome = stream.read(&mut buf);
    stop.store(true, Ordering::Relaxed);
    // Closed by the server (end of stream, or reset), not our read timeout.
    match outcome {
        Ok(_) => {}
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "still open after {:?}",
            started.elapsed()
        ),
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(server.get("/health").status, 200);
}

#[test]
fn not_found_and_method_not_allowed_do_not_read_huge_bodies() {
    let (_dir, server) = start(&[]);
    for (request, status) in [
        ("POST /nope HTTP/1.1", 404),
        ("PUT /image-classification HTTP/1.1", 405),
        ("POST /health HTTP/1.1", 405),
    ] {
        let mut stream = TcpStream::connect(server.addr()).unwrap();
        let head = format!(
            "{request}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        // The body never comes: the answer must not wait for it.
        assert_eq!(
            read_status(&mut stream, Duration::from_secs(20)),
            Some(status),
            "{request}"
        );
    }
    // A small body is still read for its logId.
    let reply = server.post("/nope", "{\"logId\": \"small\"}");
    assert_eq!(reply.json()["logId"], "small");
}

#[test]
fn a_stdout_nobody_reads_does_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 4, "5");
    let server = TestServer::start_stdout_unread(path_str(&yaml), &[]);
    // ~80 bytes of access log each: 2000 fill a 64 KiB pipe more than twice.
    let c = client();
    let started = Instant::now();
    for i in 0..2000 {
        let reply = c
            .get(format!("{}/nope-{i}", server.base))
            .timeout(Duration::from_secs(20))
            .send()
            .unwrap_or_else(|e| panic!("request {i} failed after {:?}: {e}", started.elapsed()));
        assert_eq!(reply.status(), 404);
    }
    let ok = server.post(
        "/image-classification",
        json!({"image": photo_b64("doc_0.png"), "visualize": false}).to_string(),
    );
    assert_eq!(ok.status, 200);
}

/// A loopback file server counting its requests: `/doc_0.png`, and
/// `/redirect` (302 to the same server's `/doc_0.png` on `localhost`).
fn counting_file_server() -> FileServer {
    let png = std::fs::read(photo("doc_0.png")).unwrap();
    FileServer::start(move |path, port| {
        Some(if path == "/redirect" {
            files::Reply::redirect(format!("http://localhost:{port}/doc_0.png"))
        } else {
            files::Reply::ok(png.clone())
        })
    })
}

fn url_body(url: &str) -> String {
    json!({"image": url, "visualize": false}).to_string()
}

fn error_message(reply: &Reply) -> String {
    assert_eq!(reply.status, 422, "{}", reply.body);
    let v: Value = reply.json();
    v["errorMsg"].as_str().unwrap().to_string()
}

#[test]
fn url_inputs_follow_the_policy() {
    let server = counting_file_server();
    let (files, port) = (server.base.clone(), server.port.to_string());

    // Default: public addresses only, checked before connecting.
    let (_dir, public) = start(&[]);
    for url in [
        format!("{files}/doc_0.png"),
        format!("http://localhost:{port}/doc_0.png"),
        format!("http://[::ffff:127.0.0.1]:{port}/doc_0.png"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
    ] {
        let msg = error_message(&public.post("/image-classification", url_body(&url)));
        assert!(msg.contains("not a public address"), "{url}: {msg}");
    }
    assert_eq!(server.hits(), 0, "nothing was fetched");
    drop(public);

    // none: no URL at all.
    let (_dir, none) = start(&[("PADDLEX_RS_SERVE_URL_INPUTS", "none")]);
    let msg = error_message(&none.post(
        "/image-classification",
        url_body(&format!("{files}/doc_0.png")),
    ));
    assert!(msg.contains("URLs are disabled"), "{msg}");
    assert_eq!(server.hits(), 0);
    drop(none);

    // all: PaddleX's behaviour, loopback and redirects included.
    let (_dir, all) = start(&[("PADDLEX_RS_SERVE_URL_INPUTS", "all")]);
    let ok = all.post(
        "/image-classification",
        url_body(&format!("{files}/doc_0.png")),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let redirected = all.post(
        "/image-classification",
        url_body(&format!("{files}/redirect")),
    );
    assert_eq!(redirected.status, 200, "{}", redirected.body);
    assert_eq!(server.hits(), 3);

    // An unknown policy stops the server at startup.
    let out = paddlex()
        .args([
            "--serve",
            "--pipeline",
            "image_classification",
            "--port",
            "0",
        ])
        .env("PADDLEX_RS_SERVE_URL_INPUTS", "private")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("expected all, public or none"));
}

#[test]
fn bodies_held_at_once_share_a_memory_budget() {
    // A 1 MiB body budget, bodies up to 1 000 000 bytes.
    let (_dir, server) = start(&[
        ("PADDLEX_RS_SERVE_MAX_BODY_BYTES", "1000000"),
        ("PADDLEX_RS_SERVE_BODY_BUDGET_MB", "1"),
    ]);
    let body = json!({"image": photo_b64("doc_0.png"), "visualize": false}).to_string();
    assert!(body.len() > 60_000, "{}", body.len());
    // One client sends 990 000 bytes of a body and stops there.
    let mut hog = TcpStream::connect(server.addr()).unwrap();
    let head = b"POST /image-classification HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
    hog.write_all(head).unwrap();
    hog.write_all(&vec![b' '; 990_000]).unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let busy = server.post("/image-classification", body.clone());
    assert_eq!(busy.status, 503, "{}", busy.body);
    assert!(
        busy.body.contains("memory for request bodies"),
        "{}",
        busy.body
    );
    // Once it goes away, its share comes back.
    drop(hog);
    let started = Instant::now();
    let ok = loop {
        let reply = server.post("/image-classification", body.clone());
        if reply.status != 503 || started.elapsed() > Duration::from_secs(20) {
            break reply;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(ok.status, 200, "{}", ok.body);
}
