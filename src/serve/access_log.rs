//! uvicorn-style access log lines on stdout, one per request:
//! `INFO:     127.0.0.1:59800 - "POST /image-classification HTTP/1.1" 200 OK`.
//! Requests whose path contains `/health` are not logged, as in PaddleX.
//!
//! The middleware hands each line to one writer thread through a bounded
//! channel, so a slow or stalled stdout never blocks the request workers;
//! when the channel is full the line is dropped and counted.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;

/// Lines waiting for the writer at most.
const QUEUE_LINES: usize = 8192;

/// The sending side, shared by the request workers.
#[derive(Clone)]
pub(crate) struct AccessLog {
    tx: SyncSender<String>,
    dropped: Arc<AtomicU64>,
}

impl AccessLog {
    /// Starts the writer thread; it ends (after writing what is queued) once
    /// every [`AccessLog`] clone has been dropped.
    pub(crate) fn start() -> std::io::Result<(AccessLog, JoinHandle<()>)> {
        let (tx, rx) = mpsc::sync_channel(QUEUE_LINES);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        let writer = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_lines(&rx, &counter, &mut std::io::stdout()))?;
        Ok((AccessLog { tx, dropped }, writer))
    }

    /// Queues one line without waiting.
    fn send(&self, line: String) {
        match self.tx.try_send(line) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Writes lines as they come, flushing whenever the queue is empty; notes
/// how many lines were dropped since the last note.
fn write_lines(rx: &Receiver<String>, dropped: &AtomicU64, out: &mut impl Write) {
    while let Ok(first) = rx.recv() {
        let mut line = Some(first);
        while let Some(text) = line {
            let lost = dropped.swap(0, Ordering::Relaxed);
            if lost > 0 {
                let _ = writeln!(
                    out,
                    "WARNING:  {lost} access log lines dropped (stdout too slow)"
                );
            }
            let _ = writeln!(out, "{text}");
            line = rx.try_recv().ok();
        }
        let _ = out.flush();
    }
}

/// Middleware that queues the access line once the response is ready.
pub(crate) async fn log_requests(
    State(log): State<AccessLog>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| *addr);
    let method = request.method().clone();
    let target = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |pq| pq.to_string());
    let version = request.version();
    let response = next.run(request).await;
    if !target.contains("/health") {
        log.send(access_line(
            peer,
            method.as_str(),
            &target,
            version,
            response.status(),
        ));
    }
    response
}

/// Formats one line like uvicorn's access logger.
pub(crate) fn access_line(
    peer: Option<SocketAddr>,
    method: &str,
    target: &str,
    version: Version,
    status: StatusCode,
) -> String {
    let client = peer.map_or_else(|| "-".to_string(), |p| format!("{}:{}", p.ip(), p.port()));
    let version = match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    };
    format!(
        "INFO:     {client} - \"{method} {target} HTTP/{version}\" {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvicorn_layout() {
        let peer: SocketAddr = "127.0.0.1:59800".parse().unwrap();
        assert_eq!(
            access_line(
                Some(peer),
                "POST",
                "/image-classification",
                Version::HTTP_11,
                StatusCode::UNPROCESSABLE_ENTITY
            ),
            "INFO:     127.0.0.1:59800 - \"POST /image-classification HTTP/1.1\" 422 Unprocessable Entity"
        );
    }

    #[test]
    fn lines_are_written_in_order_and_drops_are_reported() {
        let (tx, rx) = mpsc::sync_channel(4);
        let dropped = AtomicU64::new(2);
        tx.send("a".to_string()).unwrap();
        tx.send("b".to_string()).unwrap();
        drop(tx);
        let mut out = Vec::new();
        write_lines(&rx, &dropped, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WARNING:  2 access log lines dropped (stdout too slow)\na\nb\n"
        );
    }
}
