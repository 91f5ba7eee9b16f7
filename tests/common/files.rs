//! A loopback HTTP/1.1 file server for the tests that fetch URLs: one
//! request per connection, each connection on its own thread (a slow or
//! held answer does not queue the others), every request counted.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::photo;

/// What the server answers to one request.
pub struct Reply {
    /// `200 OK`, `404 Not Found`, …
    pub status: &'static str,
    /// A `Location` header (redirects).
    pub location: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// `200 OK` with `body`.
    pub fn ok(body: Vec<u8>) -> Reply {
        Reply {
            status: "200 OK",
            location: None,
            body,
        }
    }

    /// `404 Not Found`.
    pub fn not_found() -> Reply {
        Reply {
            status: "404 Not Found",
            location: None,
            body: b"nope".to_vec(),
        }
    }

    /// `302 Found` to `location`.
    pub fn redirect(location: String) -> Reply {
        Reply {
            status: "302 Found",
            location: Some(location),
            body: Vec::new(),
        }
    }
}

/// A running server (it lives as long as the test process).
pub struct FileServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The port.
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl FileServer {
    /// Answers each request with `handler(path, port)`; `None` closes the
    /// connection without an answer. The handler may block (to hold an answer).
    pub fn start(
        handler: impl Fn(&str, u16) -> Option<Reply> + Send + Sync + 'static,
    ) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("address").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&hits);
        let handler = Arc::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let n = stream.read(&mut buf).unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let Some(reply) = handler(&path, port) else {
                        return;
                    };
                    let location = reply
                        .location
                        .map_or(String::new(), |l| format!("Location: {l}\r\n"));
                    let head = format!(
                        "HTTP/1.1 {}\r\n{location}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&reply.body);
                });
            }
        });
        FileServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            hits,
        }
    }

    /// Serves committed photos at URL paths (`(path, photo name)`), 404 elsewhere.
    pub fn photos(routes: &[(&str, &str)]) -> FileServer {
        let routes: Vec<(String, Vec<u8>)> = routes
            .iter()
            .map(|(path, name)| (path.to_string(), std::fs::read(photo(name)).expect("photo")))
            .collect();
        Self::start(move |path, _| {
            Some(match routes.iter().find(|(p, _)| p == path) {
                Some((_, bytes)) => Reply::ok(bytes.clone()),
                None => Reply::not_found(),
            })
        })
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
