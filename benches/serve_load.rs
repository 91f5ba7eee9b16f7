//! Load test of `paddlex --serve` on loopback: starts the real binary, sends
//! `--requests` classification requests from `--threads` client threads over
//! keep-alive connections, checks every answer, and reports throughput,
//! latency percentiles and the server's resident memory before and after.
//!
//! ```sh
//! cargo bench --bench serve_load -- --requests 20000 --threads 8
//! cargo bench --bench serve_load -- --requests 2000 --visualize
//! ```
//!
//! Bounded in count (`--requests`) and time (`--max-seconds`); loopback only.
//! `--binary PATH` runs another build's binary (a before/after comparison).

mod serve_common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use serve_common::{ms, percentile, post, Connection, Server};

struct Options {
    requests: usize,
    threads: usize,
    visualize: bool,
    max_seconds: u64,
    image: PathBuf,
    expect: String,
    pipeline: String,
    binary: Option<PathBuf>,
}

fn parse_options() -> Options {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut o = Options {
        requests: 2000,
        threads: 8,
        visualize: false,
        max_seconds: 600,
        image: root.join("tests/data/photos/chelsea.png"),
        expect: "tiger cat".into(),
        pipeline: "image_classification".into(),
        binary: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--requests" => o.requests = value().parse().unwrap_or(o.requests),
            "--threads" => o.threads = value().parse().unwrap_or(o.threads),
            "--max-seconds" => o.max_seconds = value().parse().unwrap_or(o.max_seconds),
            "--visualize" => o.visualize = true,
            "--image" => o.image = PathBuf::from(value()),
            "--expect" => o.expect = value(),
            "--pipeline" => o.pipeline = value(),
            "--binary" => o.binary = Some(PathBuf::from(value())),
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    o
}

fn main() {
    let o = parse_options();
    let bytes = std::fs::read(&o.image).expect("read the image");
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let body = format!("{{\"image\":\"{b64}\",\"visualize\":{}}}", o.visualize);
    let request = Arc::new(post("/image-classification", &body));
    let server = Server::start_binary(o.binary.as_deref(), &o.pipeline, &[]);
    println!(
        "server {} | image {} ({} bytes) | visualize {} | {} client threads | {} requests",
        server.addr(),
        o.image.display(),
        bytes.len(),
        o.visualize,
        o.threads,
        o.requests
    );
    // Warm-up: the first runs of each batch size allocate.
    let mut warm = Connection::new(&server.addr());
    for _ in 0..50 {
        let (status, _) = warm.send(&request).expect("warm-up request");
        assert_eq!(status, 200, "warm-up failed");
    }
    let warm_threads: Vec<_> = (0..o.threads)
        .map(|_| {
            let (addr, request) = (server.addr().clone(), Arc::clone(&request));
            std::thread::spawn(move || {
                let mut c = Connection::new(&addr);
                for _ in 0..25 {
                    let _ = c.send(&request);
                }
            })
        })
        .collect();
    for t in warm_threads {
        let _ = t.join();
    }
    let rss_before = server.rss_kib();
    let next = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(o.requests)));
    let rss_samples = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let start = Instant::now();
    let workers: Vec<_> = (0..o.threads)
        .map(|_| {
            let (addr, request) = (server.addr().clone(), Arc::clone(&request));
            let (next, wrong, latencies) = (
                Arc::clone(&next),
                Arc::clone(&wrong),
                Arc::clone(&latencies),
            );
            let expect = o.expect.clone();
            let total = o.requests;
            std::thread::spawn(move || {
                let mut conn = Connection::new(&addr);
                let mut mine = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                    let t0 = Instant::now();
                    let ok = match conn.send(&request) {
                        Ok((200, body)) => {
                            let text = String::from_utf8_lossy(&body);
                            text.contains(&format!("\"name\":\"{expect}\""))
                        }
                        _ => false,
                    };
                    mine.push(t0.elapsed());
                    if !ok {
                        wrong.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.lock().map(|mut l| l.extend(mine)).ok();
            })
        })
        .collect();
    let pid = server.pid();
    let sampler = {
        let rss_samples = Arc::clone(&rss_samples);
        let next = Arc::clone(&next);
        let total = o.requests;
        std::thread::spawn(move || {
            while next.load(Ordering::Relaxed) < total && Instant::now() < deadline {
                std::thread::sleep(Duration::from_secs(2));
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                rss_samples.lock().map(|mut s| s.push(rss)).ok();
            }
        })
    };
    for w in workers {
        let _ = w.join();
    }
    let elapsed = start.elapsed();
    let _ = sampler.join();
    let rss_after = server.rss_kib();
    server.stop();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    let done = lat.len();
    let samples = rss_samples.lock().map(|s| s.clone()).unwrap_or_default();
    println!(
        "{done} requests in {:.2} s: {:.1} req/s | latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms | wrong answers {}",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(percentile(&lat, 1.0)),
        wrong.load(Ordering::Relaxed)
    );
    println!(
        "server RSS: {:.1} MiB after warm-up, {:.1} MiB at the end (samples every 2 s, MiB: {})",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        samples
            .iter()
            .map(|k| format!("{:.0}", *k as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" ")
    );
}
