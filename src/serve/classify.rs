//! One request's classification: the body parsed on the decode pool, the
//! image bytes (base64 or URL) probed for their size, a share of the decode
//! budget reserved, then decode and preprocess on the decode pool → the
//! inference queue → top-k, and the visualisation when asked for.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use image::RgbImage;
use tokio::sync::oneshot;

use super::api::{parse_infer_body, Category};
use super::body::{bodies_busy, ReadBody};
use super::budget::{MemoryBudget, Reservation};
use super::error::ApiError;
use super::pixels::{self, Header};
use super::source::{self, Fetcher};
use super::worker::{InferenceQueue, QueueError};
use crate::imaging::decode::decode_bytes;
use crate::imaging::jpeg;
use crate::imaging::preprocess::Preprocessor;
use crate::input::is_url;
use crate::postprocess::classify as classify_row;
use crate::visualize;
use crate::visualize::visual::JPEG_QUALITY;

/// Everything a request needs, shared by all requests.
pub(crate) struct Service {
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
    /// Threads for parsing, decoding, preprocessing and JPEG encoding.
    pub pool: rayon::ThreadPool,
    /// Image URLs, under the server's URL policy.
    pub fetcher: Fetcher,
    /// Largest image, in pixels (422 above).
    pub max_image_pixels: u64,
    /// Memory for decoded images in flight.
    pub(crate) decode_budget: MemoryBudget,
    /// Memory for bodies and fetched files (503 when full).
    pub(crate) body_budget: MemoryBudget,
}

/// What inference returns to the handler.
pub(crate) struct Classified {
    /// Top-k, best first.
    pub categories: Vec<Category>,
    /// Base64 JPEG of the visualisation, when asked for.
    pub image: Option<String>,
}

/// A decoded, preprocessed image.
struct Decoded {
    image: Option<RgbImage>,
    size: (u32, u32),
    tensor: Vec<f32>,
}

/// A validated request, its body no longer needed.
struct Parsed {
    /// The file bytes (base64 decoded), or the URL to fetch.
    source: Source,
    k: usize,
    visualize: bool,
    log_id: Option<String>,
}

enum Source {
    Bytes(Vec<u8>),
    Url(String),
}

/// Classifies the image of a request body; errors carry the client's `logId`.
pub(crate) async fn classify(
    service: &Arc<Service>,
    body: ReadBody,
) -> Result<Classified, ApiError> {
    let ReadBody { bytes, reservation } = body;
    let (default_k, default_visualize) = (service.default_k, service.default_visualize);
    let parsed = on_pool(&service.pool, move || {
        let request = parse_infer_body(&bytes).map_err(|invalid| {
            ApiError::unprocessable(invalid.message()).with_log_id(invalid.log_id)
        })?;
        let source = if is_url(&request.image) {
            Source::Url(request.image.into_owned())
        } else {
            match source::decode_base64(&request.image) {
                Ok(bytes) => Source::Bytes(bytes),
                Err(e) => {
                    return Err(ApiError::unprocessable(capitalize(&e.to_string()))
                        .with_log_id(request.log_id))
                }
            }
        };
        Ok(Parsed {
            source,
            k: request.topk.unwrap_or(default_k),
            visualize: request.visualize.unwrap_or(default_visualize),
            log_id: request.log_id,
        })
    })
    .await??;
    let log_id = parsed.log_id.clone();
    classify_parsed(service, parsed, reservation)
        .await
        .map_err(|e| e.with_log_id(log_id))
}

async fn classify_parsed(
    service: &Arc<Service>,
    parsed: Parsed,
    mut held: Reservation,
) -> Result<Classified, ApiError> {
    let Parsed {
        source,
        k,
        visualize,
        ..
    } = parsed;
    let bytes = match source {
        Source::Bytes(bytes) => bytes,
        Source::Url(url) => {
            let bytes = service
                .fetcher
                .fetch(&url)
                .await
                .map_err(|e| ApiError::unprocessable(capitalize(&e.to_string())))?;
            if !service.body_budget.try_grow(&mut held, bytes.len() as u64) {
                return Err(bodies_busy());
            }
            bytes
        }
    };
    let header = pixels::probe(&bytes);
    let cost = decode_cost(header, service.max_image_pixels, visualize)?;
    let pixels = service.decode_budget.reserve(cost).await;
    let svc = Arc::clone(service);
    let max_pixels = service.max_image_pixels;
    let prepared = on_pool(&service.pool, move || {
        prepare(&svc.pre, &bytes, visualize, max_pixels)
    })
    .await??;
    // The file bytes are gone.
    drop(held);
    // The decoded image is kept for the visualisation only; its share of the
    // budget goes back with it.
    let pixels = prepared.image.is_some().then_some(pixels);
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
    let ranked = classify_row(&row, k, service.labels.as_deref());
    let categories: Vec<Category> = ranked
        .class_ids
        .into_iter()
        .zip(ranked.scores)
        .zip(ranked.label_names)
        .map(|((id, score), name)| Category { id, name, score })
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
    drop(pixels);
    Ok(Classified { categories, image })
}

/// The share of the decode budget an image takes; 422 for one over the
/// pixel cap. An image whose header cannot be read is charged as the
/// largest allowed one: the `image` crate's decoders then refuse it before
/// decoding (they read the same header); a JPEG frame header this reader
/// missed would reach libjpeg-turbo, whose result is checked after decoding.
fn decode_cost(header: Option<Header>, max_pixels: u64, visualize: bool) -> Result<u64, ApiError> {
    match header {
        Some(h) if h.pixels() > max_pixels => Err(too_large(h.width, h.height, max_pixels)),
        Some(h) => Ok(h.decode_cost(visualize)),
        None => Ok(Header {
            width: u32::try_from(max_pixels).unwrap_or(u32::MAX),
            height: 1,
            bytes_per_pixel: 16,
        }
        .decode_cost(visualize)),
    }
}

/// 422: an image over the serving pixel cap.
fn too_large(width: u32, height: u32, max_pixels: u64) -> ApiError {
    let pixels = u64::from(width) * u64::from(height);
    ApiError::unprocessable(format!(
        "The image is too large: {width}x{height} = {pixels} pixels, over this server's limit of {max_pixels} pixels"
    ))
}

/// 503: too many requests in flight.
pub(crate) fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Server busy: too many requests in flight, retry later",
    )
}

/// Decodes and preprocesses; keeps the image for the visualisation.
fn prepare(
    pre: &Preprocessor,
    bytes: &[u8],
    keep_image: bool,
    max_pixels: u64,
) -> Result<Decoded, ApiError> {
    let image = decode_bytes(bytes)
        .map_err(|e| ApiError::unprocessable(format!("The image cannot be decoded: {e}")))?;
    let (width, height) = image.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(too_large(width, height, max_pixels));
    }
    let (size, tensor) = pre
        .run(&image)
        .map_err(|e| ApiError::unprocessable(format!("The image cannot be preprocessed: {e}")))?;
    Ok(Decoded {
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
