//! Error answers: an HTTP status and PaddleX's envelope
//! `{"logId", "errorCode" = status, "errorMsg"}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::api::{envelope_body, new_log_id};
use crate::log;

/// A request that ends in an error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status, also written as `errorCode`.
    pub status: StatusCode,
    /// `errorMsg`.
    pub message: String,
    /// The client's `logId` to echo; a fresh one otherwise.
    pub log_id: Option<String>,
    /// An `Allow` header (405 only).
    pub allow: Option<&'static str>,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            log_id: None,
            allow: None,
        }
    }

    /// 422: the body or the image it carries is unusable.
    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 500: a fault of the server; `detail` goes to the log, not to the client.
    pub(crate) fn internal(detail: &str) -> Self {
        log::error(&format!("Unhandled exception: {detail}"));
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    /// Echoes the client's `logId`.
    pub(crate) fn with_log_id(mut self, log_id: Option<String>) -> Self {
        self.log_id = log_id;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let log_id = self.log_id.unwrap_or_else(new_log_id);
        let body = envelope_body(&log_id, self.status.as_u16(), &self.message);
        let mut response = json_response(self.status, body);
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// A response with a JSON body.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
