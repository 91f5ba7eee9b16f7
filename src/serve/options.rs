//! The server's limits and thread counts: defaults, overridable through
//! `PADDLEX_RS_SERVE_*` environment variables.

use std::time::Duration;

/// Limits and sizes of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeOptions {
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
}

impl ServeOptions {
    /// The defaults, with any `PADDLEX_RS_SERVE_*` variable applied.
    pub fn from_env() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let var = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&v| v > 0)
        };
        ServeOptions {
            max_body_bytes: var("PADDLEX_RS_SERVE_MAX_BODY_BYTES").map_or(64 << 20, |v| v as usize),
            max_pending: var("PADDLEX_RS_SERVE_MAX_PENDING").map_or(64, |v| v as usize),
            fetch_timeout: Duration::from_secs(
                var("PADDLEX_RS_SERVE_FETCH_TIMEOUT_S").unwrap_or(30),
            ),
            decode_threads: var("PADDLEX_RS_SERVE_DECODE_THREADS").map_or(cores, |v| v as usize),
            sessions: var("PADDLEX_RS_SERVE_SESSIONS").map_or(cores.min(2), |v| v as usize),
            io_threads: var("PADDLEX_RS_SERVE_IO_THREADS").map_or(cores, |v| v as usize),
            shutdown_grace: Duration::from_secs(
                var("PADDLEX_RS_SERVE_SHUTDOWN_GRACE_S").unwrap_or(30),
            ),
        }
    }
}
