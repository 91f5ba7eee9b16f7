//! Thread policy: how many intra-op threads a session gets. A plan decision,
//! read once when the execution plan is chosen.

/// The number of intra-op threads: `PADDLE_PDX_CPU_NUM_THREADS`, else the cores.
pub(crate) fn cpu_threads() -> usize {
    env_threads().unwrap_or_else(cores)
}

/// The number of intra-op threads when results are saved:
/// `PADDLE_PDX_CPU_NUM_THREADS`, else half the cores. Encoding the
/// visualisations keeps the other cores busy, and in a run that is CPU-bound
/// anyway fewer inference threads spend less CPU in all (measured: 2 % faster
/// with one thread than with two on 2 cores).
pub(crate) fn cpu_threads_when_saving() -> usize {
    env_threads().unwrap_or_else(|| (cores() / 2).max(1))
}

fn env_threads() -> Option<usize> {
    std::env::var("PADDLE_PDX_CPU_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
}

/// The cores this process may use.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
