//! One request's classification: image bytes (base64 or URL) → decode and
//! preprocess on the decode pool → the inference queue → top-k, and the
//! visualisation when asked for.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use image::RgbImage;
use tokio::sync::oneshot;

use super::api::{Category, InferRequest};
use super::error::ApiError;
use super::source;
use super::worker::{InferenceQueue, QueueError};
use crate::image::decode::decode_bytes;
use crate::image::jpeg;
use crate::image::preprocess::Preprocessor;
use crate::input::is_url;
use crate::postprocess::label_for;
use crate::postprocess::top_k;
use crate::visualize;
use crate::visualize::visual::JPEG_QUALITY;

/// Everything a request needs, shared by all requests.
pub struct Service {
    /// The model's preprocessing.
    pub pre: Preprocessor,
    /// The model's labels.
    pub labels: Option<Vec<String>>,
    /// Top-k when the request gives none (pipeline YAML, then inference.yml).
    pub default_k: usize,
    /// `Serving.visualize`.
    pub default_visualize: bool,
    /// The inference thread's queue.
    pub queue: InferenceQueue,
    /// Threads for decoding, preprocessing and JPEG encoding.
    pub pool: rayon::ThreadPool,
    /// Client for image URLs.
    pub http: reqwest::Client,
    /// Cap on a fetched image.
    pub max_fetch_bytes: usize,
}

/// What inference returns to the handler.
pub struct Classified {
    /// Top-k, best first.
    pub categories: Vec<Category>,
    /// Base64 JPEG of the visualisation, when asked for.
    pub image: Option<String>,
}

/// A decoded, preprocessed image.
struct Prepared {
    image: Option<RgbImage>,
    size: (u32, u32),
    tensor: Vec<f32>,
}

/// Classifies the image of a validated request.
pub async fn classify(
    service: &Arc<Service>,
    request: InferRequest,
) -> Result<Classified, ApiError> {
    let visualize = request.visualize.unwrap_or(service.default_visualize);
    let k = request.topk.unwrap_or(service.default_k);
    let fetched = if is_url(&request.image) {
        Some(
            source::fetch(&service.http, &request.image, service.max_fetch_bytes)
                .await
                .map_err(|e| ApiError::unprocessable(capitalize(&e.to_string())))?,
        )
    } else {
        None
    };
    let svc = Arc::clone(service);
    let prepared = on_pool(&service.pool, move || {
        let bytes = match fetched {
            Some(bytes) => bytes,
            None => source::decode_base64(&request.image)
                .map_err(|e| ApiError::unprocessable(capitalize(&e.to_string())))?,
        };
        prepare(&svc.pre, &bytes, visualize)
    })
    .await??;
    let reply = service
        .queue
        .submit(prepared.tensor, prepared.size)
        .map_err(|e| match e {
            QueueError::Full => busy(),
            QueueError::Closed => ApiError::internal(&e.to_string()),
        })?;
    let row = reply
        .await
        .map_err(|_| ApiError::internal("the inference thread dropped a request"))?
        .map_err(|reason| ApiError::internal(&reason))?;
    let top = top_k(&row, k);
    let categories: Vec<Category> = top
        .class_ids
        .iter()
        .zip(&top.scores)
        .map(|(&id, &score)| Category {
            id,
            name: label_for(service.labels.as_deref(), id),
            score,
        })
        .collect();
    let image = match prepared.image {
        Some(img) => {
            let text = categories
                .first()
                .map_or_else(String::new, |c| visualize::label_text(&c.name, c.score));
            Some(on_pool(&service.pool, move || render(&img, &text)).await??)
        }
        None => None,
    };
    Ok(Classified { categories, image })
}

/// 503: too many requests in flight.
pub fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Server busy: too many requests in flight, retry later",
    )
}

/// Decodes and preprocesses; keeps the image for the visualisation.
fn prepare(pre: &Preprocessor, bytes: &[u8], keep_image: bool) -> Result<Prepared, ApiError> {
    let image = decode_bytes(bytes)
        .map_err(|e| ApiError::unprocessable(format!("The image cannot be decoded: {e}")))?;
    let (size, tensor) = pre
        .run(&image)
        .map_err(|e| ApiError::unprocessable(format!("The image cannot be preprocessed: {e}")))?;
    Ok(Prepared {
        image: keep_image.then_some(image),
        size,
        tensor,
    })
}

/// Draws the label and encodes the result as base64 JPEG (Pillow's quality 75).
fn render(img: &RgbImage, text: &str) -> Result<String, ApiError> {
    let drawn = visualize::draw_label(img, text);
    let jpeg = jpeg::encode(drawn.as_raw(), drawn.width(), drawn.height(), JPEG_QUALITY)
        .map_err(|e| ApiError::internal(&format!("JPEG encoding failed: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(jpeg))
}

/// Runs `work` on the decode pool and waits for it without blocking the runtime.
async fn on_pool<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    pool.spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(work)));
    });
    match rx.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(ApiError::internal("a decode task panicked")),
        Err(_) => Err(ApiError::internal("a decode task was dropped")),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
