//! The inference queue: each inference thread owns one ONNX Runtime session
//! (it needs `&mut` to run); a free thread takes its share of what is waiting
//! (the waiting jobs split evenly between the sessions, at most the pipeline's
//! `batch_size`), runs it as one batch and answers each request through its
//! own oneshot channel. Even shares keep both sessions busy and the batches
//! short, which keeps the latency tail low.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::runtime::batch::{BatchRunner, Image};
use crate::runtime::Classifier;

/// One preprocessed image waiting for inference.
pub(crate) struct Job {
    /// The input tensor of one image (3·w·h floats).
    pub tensor: Vec<f32>,
    /// Its `(w, h)`.
    pub size: (u32, u32),
    /// Where the probability row (or the failure) goes.
    pub reply: oneshot::Sender<Result<Vec<f32>, String>>,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueueError {
    /// The queue is full.
    #[error("the inference queue is full")]
    Full,
    /// The inference thread has stopped.
    #[error("the inference thread has stopped")]
    Closed,
}

/// The sending side of the queue; cheap to clone.
#[derive(Clone)]
pub(crate) struct InferenceQueue {
    tx: SyncSender<Job>,
    waiting: Arc<AtomicUsize>,
}

impl InferenceQueue {
    /// Queues one image without waiting; the receiver yields its row.
    pub(crate) fn submit(
        &self,
        tensor: Vec<f32>,
        size: (u32, u32),
    ) -> Result<oneshot::Receiver<Result<Vec<f32>, String>>, QueueError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            tensor,
            size,
            reply,
        };
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let sent = self.tx.try_send(job);
        if sent.is_err() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        match sent {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => Err(QueueError::Full),
            Err(TrySendError::Disconnected(_)) => Err(QueueError::Closed),
        }
    }
}

/// Starts one inference thread per session, sharing a queue of `capacity`
/// jobs. They end when every [`InferenceQueue`] clone has been dropped and
/// the queue is drained.
pub(crate) fn start(
    sessions: Vec<Classifier>,
    runner: &BatchRunner,
    capacity: usize,
) -> std::io::Result<(InferenceQueue, Vec<JoinHandle<()>>)> {
    let (tx, rx) = mpsc::sync_channel(capacity.max(1));
    let waiting = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(Shared {
        rx: Mutex::new(rx),
        waiting: Arc::clone(&waiting),
        sessions: sessions.len().max(1),
    });
    let mut handles = Vec::with_capacity(sessions.len());
    for (i, classifier) in sessions.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        let runner = runner.clone();
        handles.push(
            std::thread::Builder::new()
                .name(format!("inference-{i}"))
                .spawn(move || run(classifier, runner, &shared))?,
        );
    }
    Ok((InferenceQueue { tx, waiting }, handles))
}

/// The receiving side, shared by the inference threads.
struct Shared {
    rx: Mutex<Receiver<Job>>,
    /// Jobs queued and not yet taken.
    waiting: Arc<AtomicUsize>,
    sessions: usize,
}

/// Takes the next batch: waits for one job, then adds this session's share
/// of what is already waiting. `None` once the queue is closed and empty.
fn next_batch(shared: &Shared, batch_size: usize) -> Option<Vec<Job>> {
    // A poisoned lock only means another inference thread panicked.
    let rx = shared.rx.lock().unwrap_or_else(|e| e.into_inner());
    let first = rx.recv().ok()?;
    let waiting = shared.waiting.load(Ordering::SeqCst).max(1);
    let share = waiting.div_ceil(shared.sessions).clamp(1, batch_size);
    let mut batch = Vec::with_capacity(share);
    batch.push(first);
    while batch.len() < share {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    shared.waiting.fetch_sub(batch.len(), Ordering::SeqCst);
    Some(batch)
}

fn run(mut classifier: Classifier, mut runner: BatchRunner, shared: &Shared) {
    while let Some(mut batch) = next_batch(shared, runner.batch_size()) {
        // A client that went away does not need its inference.
        batch.retain(|job| !job.reply.is_closed());
        let images: Vec<Image<'_>> = batch
            .iter()
            .map(|job| Image {
                tensor: &job.tensor,
                size: job.size,
            })
            .collect();
        let rows = runner.run(&mut classifier, &images);
        for (job, row) in batch.into_iter().zip(rows) {
            let _ = job.reply.send(row);
        }
    }
}
