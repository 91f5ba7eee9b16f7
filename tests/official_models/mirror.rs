//! A loopback HTTP server standing in for PaddleX's model host: it serves
//! fixed bodies under `/models/`, whole, cut short, or as an error status,
//! and counts the requests it answered.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the whole body.
    Full(Vec<u8>),
    /// 200 announcing the whole body, then only its first `sent` bytes
    /// before the connection closes.
    Cut {
        /// The body whose length is announced.
        body: Vec<u8>,
        /// How many bytes are sent.
        sent: usize,
    },
}

/// A running server; stopped on drop.
pub struct MirrorServer {
    /// `http://127.0.0.1:PORT/models`: the value for `PADDLEX_RS_MODEL_MIRROR`.
    pub base: String,
    addr: std::net::SocketAddr,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MirrorServer {
    /// Serves `files` (file name → reply) under `/models/`; each answer
    /// waits `delay` first, so concurrent clients overlap.
    pub fn start(files: Vec<(String, Reply)>, delay: Duration) -> MirrorServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let files: Arc<HashMap<String, Reply>> = Arc::new(
            files
                .into_iter()
                .map(|(name, reply)| (format!("/models/{name}"), reply))
                .collect(),
        );
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (hits2, stop2) = (Arc::clone(&hits), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (files, hits) = (Arc::clone(&files), Arc::clone(&hits2));
                std::thread::spawn(move || answer(stream, &files, &hits, delay));
            }
        });
        MirrorServer {
            base: format!("http://{addr}/models"),
            addr,
            hits,
            stop,
            thread: Some(thread),
        }
    }

    /// How many requests were answered.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for MirrorServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(
    mut stream: TcpStream,
    files: &HashMap<String, Reply>,
    hits: &AtomicUsize,
    delay: Duration,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
    std::thread::sleep(delay);
    hits.fetch_add(1, Ordering::SeqCst);
    let (body, sent) = match files.get(&path) {
        Some(Reply::Full(body)) => (body.as_slice(), body.len()),
        Some(Reply::Cut { body, sent }) => (body.as_slice(), *sent),
        None => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
            );
            return;
        }
    };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body[..sent]);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
