//! `paddlex --serve` under hostile loads, on loopback: for each scenario a
//! fresh server, warmed up, then hostile clients for `--seconds` while one
//! normal client sends `chelsea.png` requests one after the other. Reports
//! the answers the hostile clients got, the normal client's answers and
//! latency meanwhile, and the server's resident memory (after warm-up, and
//! its peak during the load, `VmHWM` from /proc).
//!
//! ```sh
//! cargo bench --bench serve_hostile
//! cargo bench --bench serve_hostile -- --scenario trickle --seconds 20
//! cargo bench --bench serve_hostile -- --binary /path/to/other/paddlex   # before/after
//! ```
//!
//! Scenarios: `idle` (no hostile client), `bombs` (16 clients posting a
//! ~520 KB PNG that declares 13000 x 13000 pixels), `large` (16 clients
//! posting a real 6000 x 6000 PNG, visualisation on), `trickle` (70 clients
//! sending a body one byte per 200 ms), `headers` (200 clients sending
//! their headers one line per 200 ms), `notfound` (16 clients streaming a
//! 64 MB body to `POST /nope`). Loopback only; bounded in time.

mod serve_common;

use std::collections::BTreeMap;
use std::io::{Cursor, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serve_common::{ms, percentile, png_declaring, post, Connection, Server};

struct Options {
    binary: Option<PathBuf>,
    seconds: u64,
    only: Option<String>,
}

fn parse_options() -> Options {
    let mut o = Options {
        binary: None,
        seconds: 15,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match arg.as_str() {
            "--binary" => o.binary = Some(PathBuf::from(value())),
            "--seconds" => o.seconds = value().parse().unwrap_or(o.seconds),
            "--scenario" => o.only = Some(value()),
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    o
}

/// What the hostile clients of a scenario do until `stop`, with the
/// scenario's prepared request; each returns the status codes it got (0:
/// the connection ended without an answer, 1: no answer when the scenario
/// stopped).
type Hostile = fn(addr: String, request: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<u16>;

struct Scenario {
    name: &'static str,
    clients: usize,
    run: Option<Hostile>,
    /// The request the clients send, prepared once before the server starts.
    request: fn() -> Vec<u8>,
    envs: &'static [(&'static str, &'static str)],
}

fn no_request() -> Vec<u8> {
    Vec::new()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn bomb_request() -> Vec<u8> {
    post(
        "/image-classification",
        &format!("{{\"image\":\"{}\"}}", b64(&png_declaring(13000, 13000))),
    )
}

fn large_request() -> Vec<u8> {
    let img = image::RgbImage::from_fn(6000, 6000, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("encode");
    post(
        "/image-classification",
        &format!("{{\"image\":\"{}\"}}", b64(&png.into_inner())),
    )
}

/// Sends one prepared request after another on a keep-alive connection.
fn repeat(addr: &str, request: &[u8], stop: &AtomicBool) -> Vec<u16> {
    let mut conn = Connection::new(addr);
    let mut codes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        codes.push(conn.send(request).map_or(0, |(status, _)| status));
    }
    codes
}

fn repeated(addr: String, request: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<u16> {
    repeat(&addr, &request, &stop)
}

/// Opens a connection, sends `head`, then `unit` every 200 ms (reading in
/// between) until the server answers or closes, or `stop`; then again.
fn dribble(addr: &str, head: &[u8], unit: &[u8], stop: &AtomicBool) -> Vec<u16> {
    let mut codes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(addr) else {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
        let _ = stream.write_all(head);
        let mut buf = [0u8; 512];
        let code = loop {
            if stop.load(Ordering::Relaxed) {
                break 1;
            }
            let _ = stream.write_all(unit);
            match stream.read(&mut buf) {
                Ok(0) => break 0,
                Ok(n) => {
                    let text = String::from_utf8_lossy(&buf[..n]).to_string();
                    break text
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => break 0,
            }
        };
        codes.push(code);
    }
    codes
}

fn trickle(addr: String, _: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<u16> {
    let head = format!(
        "POST /image-classification HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    dribble(&addr, head.as_bytes(), b" ", &stop)
}

fn headers(addr: String, _: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<u16> {
    dribble(
        &addr,
        b"POST /image-classification HTTP/1.1\r\n",
        b"X-Slow: 1\r\n",
        &stop,
    )
}

/// Streams a 64 MB body to `POST /nope` while waiting for the answer.
fn not_found(addr: String, _: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<u16> {
    const LEN: usize = 64 << 20;
    let mut codes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect(&addr) else {
            continue;
        };
        let head = format!(
            "POST /nope HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {LEN}\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        let Ok(mut writer) = stream.try_clone() else {
            continue;
        };
        let sender = std::thread::spawn(move || {
            let block = vec![b' '; 64 << 10];
            for _ in 0..LEN / block.len() {
                if writer.write_all(&block).is_err() {
                    break;
                }
            }
        });
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut buf = [0u8; 512];
        let code = match stream.read(&mut buf) {
            Ok(n) if n > 0 => String::from_utf8_lossy(&buf[..n])
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            _ => 0,
        };
        codes.push(code);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let _ = sender.join();
    }
    codes
}

fn histogram(codes: &[u16]) -> String {
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    for &c in codes {
        *counts.entry(c).or_default() += 1;
    }
    counts
        .iter()
        .map(|(code, n)| match code {
            0 => format!("closed×{n}"),
            1 => format!("pending×{n}"),
            c => format!("{c}×{n}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn run(scenario: &Scenario, o: &Options, normal: &Arc<Vec<u8>>) {
    let request = Arc::new((scenario.request)());
    let mut server =
        Server::start_binary(o.binary.as_deref(), "image_classification", scenario.envs);
    let mut warm = Connection::new(&server.addr());
    for _ in 0..30 {
        let (status, _) = warm.send(normal).expect("warm-up request");
        assert_eq!(status, 200, "warm-up failed");
    }
    drop(warm);
    let rss_before = server.rss_kib();
    server.reset_peak();
    let stop = Arc::new(AtomicBool::new(false));
    let hostile: Vec<_> = match scenario.run {
        Some(run) => (0..scenario.clients)
            .map(|_| {
                let (addr, stop) = (server.addr().clone(), Arc::clone(&stop));
                let request = Arc::clone(&request);
                std::thread::spawn(move || run(addr, request, stop))
            })
            .collect(),
        None => Vec::new(),
    };
    // Let the hostile clients get going.
    std::thread::sleep(Duration::from_secs(1));
    let normal_client = {
        let (addr, stop, request) = (server.addr().clone(), Arc::clone(&stop), Arc::clone(normal));
        std::thread::spawn(move || {
            let mut conn = Connection::new(&addr);
            let mut latencies = Vec::new();
            let mut codes = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let code = conn.send(&request).map_or(0, |(status, _)| status);
                latencies.push(t0.elapsed());
                codes.push(code);
                // A client of a normal service, not a flood.
                std::thread::sleep(Duration::from_millis(50));
            }
            (latencies, codes)
        })
    };
    std::thread::sleep(Duration::from_secs(o.seconds));
    let peak_during = server.peak_kib();
    stop.store(true, Ordering::Relaxed);
    let (mut latencies, normal_codes) = normal_client.join().expect("normal client");
    let hostile_codes: Vec<u16> = hostile
        .into_iter()
        .flat_map(|t| t.join().unwrap_or_default())
        .collect();
    let alive = server.alive();
    latencies.sort();
    println!(
        "| {} | {} | {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} → {:.0} MiB{} |",
        scenario.name,
        if hostile_codes.is_empty() {
            "-".to_string()
        } else {
            histogram(&hostile_codes)
        },
        latencies.len(),
        histogram(&normal_codes),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 1.0)),
        rss_before as f64 / 1024.0,
        peak_during as f64 / 1024.0,
        if alive { "" } else { " (server died)" }
    );
    if alive {
        server.stop();
    }
}

fn main() {
    let o = parse_options();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chelsea = std::fs::read(root.join("tests/data/photos/chelsea.png")).expect("chelsea.png");
    let normal = Arc::new(post(
        "/image-classification",
        &format!("{{\"image\":\"{}\",\"visualize\":false}}", b64(&chelsea)),
    ));
    let scenarios = [
        Scenario {
            name: "idle",
            clients: 0,
            run: None,
            request: no_request,
            envs: &[],
        },
        Scenario {
            name: "bombs",
            clients: 16,
            run: Some(repeated),
            request: bomb_request,
            envs: &[],
        },
        Scenario {
            name: "large",
            clients: 16,
            run: Some(repeated),
            request: large_request,
            envs: &[],
        },
        // A 10 s body limit (default 60 s) so that the run shows the 408s.
        Scenario {
            name: "trickle",
            clients: 70,
            run: Some(trickle),
            request: no_request,
            envs: &[("PADDLEX_RS_SERVE_BODY_TIMEOUT_S", "10")],
        },
        Scenario {
            name: "headers",
            clients: 200,
            run: Some(headers),
            request: no_request,
            envs: &[],
        },
        Scenario {
            name: "notfound",
            clients: 16,
            run: Some(not_found),
            request: no_request,
            envs: &[],
        },
    ];
    println!(
        "binary {} | {} s per scenario | normal client: chelsea.png, visualize off, one request at a time, 50 ms apart",
        o.binary.as_deref().map_or_else(|| env!("CARGO_BIN_EXE_paddlex").to_string(), |p| p.display().to_string()),
        o.seconds
    );
    println!("| scenario | hostile answers | normal requests | normal answers | p50 | p90 | max | RSS after warm-up → peak |");
    println!("| --- | --- | ---: | --- | ---: | ---: | ---: | --- |");
    for scenario in &scenarios {
        if o.only.as_deref().is_some_and(|only| only != scenario.name) {
            continue;
        }
        run(scenario, &o, &normal);
    }
}
