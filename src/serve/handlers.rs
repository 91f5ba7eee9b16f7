//! The HTTP endpoints: `POST /image-classification`, `GET /health`,
//! `GET /openapi.json`, and the 404 / 405 answers.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::api::{self, envelope_body, new_log_id, success_body};
use super::body::{read_body, read_prefix, BodyLimits};
use super::classify::{busy, classify, Service};
use super::error::{json_response, ApiError};

/// The state handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The model and its queue.
    pub service: Arc<Service>,
    /// One permit per request in flight; none left → 503.
    pub permits: Arc<Semaphore>,
    /// How bodies are read.
    pub(crate) body: BodyLimits,
}

/// Longest wait for the few KB of a 404 / 405 body.
const PREFIX_TIMEOUT: Duration = Duration::from_secs(5);

/// `POST /image-classification`.
pub(crate) async fn infer(State(state): State<AppState>, request: Request) -> Response {
    // The body first, under its time limit and the body budget: a client
    // that sends slowly holds no admission slot.
    let body = match read_body(request, &state.body).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    let Ok(_permit) = Arc::clone(&state.permits).try_acquire_owned() else {
        return busy().into_response();
    };
    match classify(&state.service, body).await {
        Ok(done) => json_response(
            StatusCode::OK,
            success_body(&new_log_id(), &done.categories, done.image.as_deref()),
        ),
        Err(e) => e.into_response(),
    }
}

/// `GET /health`.
pub(crate) async fn health() -> Response {
    json_response(StatusCode::OK, envelope_body(&new_log_id(), 0, "Healthy"))
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    json_response(StatusCode::OK, api::OPENAPI_JSON.to_string())
}

/// Any other path: 404.
pub(crate) async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    let log_id = body_log_id(request, &state.body).await;
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
        .with_log_id(log_id)
        .into_response()
}

/// A known path with the wrong method: 405 with an `Allow` header.
pub(crate) async fn method_not_allowed(
    State(state): State<AppState>,
    request: Request,
) -> Response {
    let allow = match request.uri().path() {
        "/image-classification" => "POST",
        _ => "GET, HEAD",
    };
    let log_id = body_log_id(request, &state.body).await;
    let mut error =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed").with_log_id(log_id);
    error.allow = Some(allow);
    error.into_response()
}

/// The client's `logId` in a small JSON body (a few KB at most are read).
async fn body_log_id(request: Request, limits: &BodyLimits) -> Option<String> {
    let body = read_prefix(request, limits.timeout.min(PREFIX_TIMEOUT)).await?;
    super::api::body_log_id(&body)
}
