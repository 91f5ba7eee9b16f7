//! The server's limits and thread counts: defaults, overridable through
//! `PADDLEX_RS_SERVE_*` environment variables.

use std::time::Duration;

use crate::imaging::decode::MAX_PIXELS;
use crate::log;

/// Which image URLs a request may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlInputs {
    /// Any http(s) URL (PaddleX's behaviour).
    All,
    /// Only URLs whose every address (after DNS, on every redirect) is public:
    /// no loopback, private, link-local or otherwise special target.
    Public,
    /// No URLs: the image must be sent in the body.
    None,
}

impl UrlInputs {
    /// Parses `all`, `public` or `none` (any case).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Some(UrlInputs::All),
            "public" => Some(UrlInputs::Public),
            "none" => Some(UrlInputs::None),
            _ => None,
        }
    }
}

/// A `PADDLEX_RS_SERVE_*` value the server cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OptionsError {
    /// `PADDLEX_RS_SERVE_URL_INPUTS` is not `all`, `public` or `none`.
    #[error("PADDLEX_RS_SERVE_URL_INPUTS={0:?}: expected all, public or none")]
    UrlInputs(String),
}

/// Limits and sizes of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServeOptions {
    /// Largest request body (413 above); also the cap on a fetched image.
    pub max_body_bytes: usize,
    /// Requests being served at once (decoding, queued or in inference); 503 above.
    pub max_pending: usize,
    /// Total time allowed to fetch an image URL.
    pub fetch_timeout: Duration,
    /// Threads that decode, preprocess and encode visualisations.
    pub decode_threads: usize,
    /// ONNX Runtime sessions, each run by its own inference thread; the
    /// intra-op threads (`PADDLE_PDX_CPU_NUM_THREADS`, else the cores) are
    /// shared out between them.
    pub sessions: usize,
    /// Threads of the async runtime (HTTP, JSON parsing).
    pub io_threads: usize,
    /// How long a shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
    /// Largest image a request may carry, in pixels (422 above); never above
    /// the CLI's [`MAX_PIXELS`].
    pub max_image_pixels: u64,
    /// Memory for decoded images in flight; requests wait for their share.
    pub decode_budget_bytes: usize,
    /// Memory for request bodies (and fetched files) held at once; 503 beyond.
    pub body_budget_bytes: usize,
    /// Time allowed to receive a whole request body (408 after).
    pub body_timeout: Duration,
    /// Time allowed to receive a request's headers (the connection is closed after).
    pub header_timeout: Duration,
    /// Which image URLs are fetched.
    pub url_inputs: UrlInputs,
}

/// Default serving pixel cap: 50 megapixels (an 8160 x 6120 photo), well
/// under the CLI's [`MAX_PIXELS`].
pub(crate) const DEFAULT_MAX_IMAGE_PIXELS: u64 = 50_000_000;

impl ServeOptions {
    /// The defaults, with any `PADDLEX_RS_SERVE_*` variable applied. A number
    /// that does not parse (or is 0) is reported and the default kept.
    pub(crate) fn from_env() -> Result<Self, OptionsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`ServeOptions::from_env`], reading variables through `lookup`.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, OptionsError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let var = |name: &str| {
            let text = lookup(name)?;
            let value = text.trim().parse::<u64>().ok().filter(|&v| v > 0);
            if value.is_none() {
                log::warn(&format!(
                    "{name}={text:?} is not a positive whole number; using the default"
                ));
            }
            value
        };
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        let mib = |v: u64| size(v.saturating_mul(1 << 20));
        let url_inputs = match lookup("PADDLEX_RS_SERVE_URL_INPUTS") {
            Some(text) => UrlInputs::parse(&text).ok_or(OptionsError::UrlInputs(text))?,
            None => UrlInputs::Public,
        };
        let max_body_bytes = var("PADDLEX_RS_SERVE_MAX_BODY_BYTES").map_or(64 << 20, size);
        Ok(ServeOptions {
            max_body_bytes,
            max_pending: var("PADDLEX_RS_SERVE_MAX_PENDING").map_or(64, size),
            fetch_timeout: Duration::from_secs(
                var("PADDLEX_RS_SERVE_FETCH_TIMEOUT_S").unwrap_or(30),
            ),
            decode_threads: var("PADDLEX_RS_SERVE_DECODE_THREADS").map_or(cores, size),
            sessions: var("PADDLEX_RS_SERVE_SESSIONS").map_or(cores.min(2), size),
            io_threads: var("PADDLEX_RS_SERVE_IO_THREADS").map_or(cores, size),
            shutdown_grace: Duration::from_secs(
                var("PADDLEX_RS_SERVE_SHUTDOWN_GRACE_S").unwrap_or(30),
            ),
            max_image_pixels: var("PADDLEX_RS_SERVE_MAX_PIXELS")
                .unwrap_or(DEFAULT_MAX_IMAGE_PIXELS)
                .min(MAX_PIXELS),
            decode_budget_bytes: var("PADDLEX_RS_SERVE_DECODE_BUDGET_MB").map_or(1 << 30, mib),
            // A body of the largest allowed size must always fit.
            body_budget_bytes: var("PADDLEX_RS_SERVE_BODY_BUDGET_MB")
                .map_or(1 << 30, mib)
                .max(max_body_bytes),
            body_timeout: Duration::from_secs(var("PADDLEX_RS_SERVE_BODY_TIMEOUT_S").unwrap_or(60)),
            header_timeout: Duration::from_secs(
                var("PADDLEX_RS_SERVE_HEADER_TIMEOUT_S").unwrap_or(10),
            ),
            url_inputs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<ServeOptions, OptionsError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ServeOptions::from_lookup(move |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_and_overrides() {
        let d = with(&[]).unwrap();
        assert_eq!(d.url_inputs, UrlInputs::Public);
        assert_eq!(d.max_image_pixels, DEFAULT_MAX_IMAGE_PIXELS);
        assert!(d.max_image_pixels < MAX_PIXELS / 3);
        assert_eq!(d.decode_budget_bytes, 1 << 30);
        let o = with(&[
            ("PADDLEX_RS_SERVE_URL_INPUTS", " None "),
            ("PADDLEX_RS_SERVE_MAX_PIXELS", "999999999999"),
            ("PADDLEX_RS_SERVE_DECODE_BUDGET_MB", "300"),
            ("PADDLEX_RS_SERVE_MAX_BODY_BYTES", "5000000"),
            ("PADDLEX_RS_SERVE_BODY_BUDGET_MB", "1"),
            ("PADDLEX_RS_SERVE_HEADER_TIMEOUT_S", "abc"),
            ("PADDLEX_RS_SERVE_BODY_TIMEOUT_S", "0"),
        ])
        .unwrap();
        assert_eq!(o.url_inputs, UrlInputs::None);
        assert_eq!(o.max_image_pixels, MAX_PIXELS, "never above the CLI's cap");
        assert_eq!(o.decode_budget_bytes, 300 << 20);
        assert_eq!(o.body_budget_bytes, 5_000_000, "room for one largest body");
        assert_eq!(o.header_timeout, d.header_timeout);
        assert_eq!(o.body_timeout, d.body_timeout);
    }

    #[test]
    fn an_unknown_url_policy_stops_the_server() {
        assert_eq!(
            with(&[("PADDLEX_RS_SERVE_URL_INPUTS", "private")]).unwrap_err(),
            OptionsError::UrlInputs("private".into())
        );
        assert_eq!(UrlInputs::parse("ALL"), Some(UrlInputs::All));
    }
}
