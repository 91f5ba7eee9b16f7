//! uvicorn-style access log lines on stdout, one per request:
//! `INFO:     127.0.0.1:59800 - "POST /image-classification HTTP/1.1" 200 OK`.
//! Requests whose path contains `/health` are not logged, as in PaddleX.

use std::io::Write;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::http::{StatusCode, Version};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware that writes the access line once the response is ready.
pub async fn log_requests(request: Request, next: Next) -> Response {
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
        let line = access_line(peer, method.as_str(), &target, version, response.status());
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
    response
}

/// Formats one line like uvicorn's access logger.
pub fn access_line(
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
}
