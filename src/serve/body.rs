//! Request bodies: read whole under a size cap, a time limit and the body
//! memory budget (before the request takes an admission slot), or only a
//! few KB for the answers that do not need the body.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use bytes::BytesMut;
use http_body_util::BodyExt;
use tokio::time::Instant;

use super::budget::{MemoryBudget, Reservation};
use super::error::ApiError;

/// How a body may be read.
#[derive(Clone)]
pub(crate) struct BodyLimits {
    /// Largest body (413 above).
    pub(crate) max_bytes: usize,
    /// Time allowed for the whole body (408 after).
    pub(crate) timeout: Duration,
    /// Memory for the bodies held at once (503 when full).
    pub(crate) budget: MemoryBudget,
}

/// A body read whole, with its share of the body budget.
pub(crate) struct ReadBody {
    /// The bytes.
    pub(crate) bytes: Bytes,
    /// Given back when dropped.
    pub(crate) reservation: Reservation,
}

/// How much of a refused body is still read (and dropped) so that the client,
/// still sending, gets the answer instead of a reset connection.
const DRAIN_CAP: usize = 16 << 20;

/// The most bytes of a body read to answer 404 or 405 (for the `logId` echo).
pub(crate) const PREFIX_CAP: usize = 4096;

/// Reads the whole body: 413 over `max_bytes`, 408 past the timeout, 503
/// when the body budget has no room for it.
pub(crate) async fn read_body(request: Request, limits: &BodyLimits) -> Result<ReadBody, ApiError> {
    let deadline = Instant::now() + limits.timeout;
    let limit = limits.max_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body too large: the limit is {limit} bytes"),
        )
    };
    let declared = declared_length(request.headers());
    let mut body: Body = request.into_body();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body, DRAIN_CAP, deadline).await;
        return Err(too_large());
    }
    let mut reservation = Reservation::none();
    // Only the pages written become resident: a client that declares a large
    // body and sends it slowly holds (and is charged for) what it sent.
    let mut data = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(timed_out(limits.timeout)),
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("Cannot read the request body: {e}"),
                )
            })?,
        };
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if data.len() + chunk.len() > limit {
            drain(body, DRAIN_CAP, deadline).await;
            return Err(too_large());
        }
        if !limits.budget.try_grow(&mut reservation, chunk.len() as u64) {
            drain(body, DRAIN_CAP, deadline).await;
            return Err(bodies_busy());
        }
        data.extend_from_slice(&chunk);
    }
    Ok(ReadBody {
        bytes: data.freeze(),
        reservation,
    })
}

/// 503: the body budget is full.
pub(crate) fn bodies_busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Server busy: the memory for request bodies is in use, retry later",
    )
}

/// 408: the body did not arrive in time.
fn timed_out(limit: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!("Request body not received within {}s", limit.as_secs_f64()),
    )
}

/// The body when it is at most [`PREFIX_CAP`] bytes and arrives within
/// `timeout`; `None` otherwise, without reading further. A larger declared
/// length is not read at all.
pub(crate) async fn read_prefix(request: Request, timeout: Duration) -> Option<Bytes> {
    if declared_length(request.headers()).is_some_and(|n| n > PREFIX_CAP as u64) {
        return None;
    }
    let deadline = Instant::now() + timeout;
    let mut body = request.into_body();
    let mut data = BytesMut::new();
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(None) => return Some(data.freeze()),
            Ok(Some(Ok(frame))) => {
                if let Ok(chunk) = frame.into_data() {
                    if data.len() + chunk.len() > PREFIX_CAP {
                        return None;
                    }
                    data.extend_from_slice(&chunk);
                }
            }
            Ok(Some(Err(_))) | Err(_) => return None,
        }
    }
}

/// Reads and drops up to `cap` bytes of a body, until `deadline`.
pub(crate) async fn drain(mut body: Body, cap: usize, deadline: Instant) {
    let mut seen = 0usize;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(chunk) = frame.into_data() {
            seen += chunk.len();
            if seen > cap {
                break;
            }
        }
    }
}

/// The `Content-Length` header, when there is a valid one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}
