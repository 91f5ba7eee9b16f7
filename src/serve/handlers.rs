//! The HTTP endpoints: `POST /image-classification`, `GET /health`,
//! `GET /openapi.json`, and the 404 / 405 answers.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::api::{self, envelope_body, new_log_id, parse_infer_body, success_body};
use super::classify::{busy, classify, Service};
use super::error::{json_response, ApiError};

/// The state handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The model and its queue.
    pub service: Arc<Service>,
    /// One permit per request in flight; none left → 503.
    pub permits: Arc<Semaphore>,
    /// Largest request body.
    pub max_body_bytes: usize,
}

/// `POST /image-classification`.
pub async fn infer(State(state): State<AppState>, request: Request) -> Response {
    // Admission first, so a full server holds no more bodies in memory.
    let Ok(_permit) = Arc::clone(&state.permits).try_acquire_owned() else {
        drain(request.into_body(), state.max_body_bytes).await;
        return busy().into_response();
    };
    let body = match read_body(request, state.max_body_bytes).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let parsed = match parse_infer_body(&body) {
        Ok(parsed) => parsed,
        Err(invalid) => {
            return ApiError::unprocessable(invalid.message())
                .with_log_id(invalid.log_id)
                .into_response()
        }
    };
    let log_id = client_log_id(&body);
    drop(body);
    match classify(&state.service, parsed).await {
        Ok(done) => json_response(
            StatusCode::OK,
            success_body(&new_log_id(), &done.categories, done.image.as_deref()),
        ),
        Err(e) => e.with_log_id(log_id).into_response(),
    }
}

/// `GET /health`.
pub async fn health() -> Response {
    json_response(StatusCode::OK, envelope_body(&new_log_id(), 0, "Healthy"))
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    json_response(StatusCode::OK, api::OPENAPI_JSON.to_string())
}

/// Any other path: 404.
pub async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    let log_id = body_log_id(request, state.max_body_bytes).await;
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
        .with_log_id(log_id)
        .into_response()
}

/// A known path with the wrong method: 405 with an `Allow` header.
pub async fn method_not_allowed(State(state): State<AppState>, request: Request) -> Response {
    let allow = match request.uri().path() {
        "/image-classification" => "POST",
        _ => "GET, HEAD",
    };
    let log_id = body_log_id(request, state.max_body_bytes).await;
    let mut error =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").with_log_id(log_id);
    error.allow = Some(allow);
    error.into_response()
}

/// How much of a refused body is still read (and dropped) so that the client,
/// still sending, gets the answer instead of a reset connection.
const DRAIN_CAP: usize = 16 << 20;

/// Reads the whole body, refusing more than `limit` bytes with 413.
async fn read_body(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body too large: the limit is {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body: Body = request.into_body();
    if declared.is_some_and(|n| n > limit as u64) {
        drain(body, DRAIN_CAP).await;
        return Err(too_large());
    }
    let mut data = BytesMut::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("Cannot read the request body: {e}"),
            )
        })?;
        if let Ok(chunk) = frame.into_data() {
            if data.len() + chunk.len() > limit {
                drain(body, DRAIN_CAP).await;
                return Err(too_large());
            }
            data.extend_from_slice(&chunk);
        }
    }
    Ok(data.freeze())
}

/// Reads and drops up to `cap` bytes of a body.
pub async fn drain(mut body: Body, cap: usize) {
    let mut seen = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(chunk) = frame.into_data() {
            seen += chunk.len();
            if seen > cap {
                break;
            }
        }
    }
}

/// The client's `logId` in a JSON body, if any.
fn client_log_id(body: &[u8]) -> Option<String> {
    if !body.windows(7).any(|w| w == b"\"logId\"") {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| api::log_id_of(&v))
}

async fn body_log_id(request: Request, limit: usize) -> Option<String> {
    let body = read_body(request, limit).await.ok()?;
    client_log_id(&body)
}
