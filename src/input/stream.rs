//! The units of a run, made from its items on a thread of their own just
//! ahead of the pipeline: URLs downloaded (a few at once), PDFs read and
//! parsed (once each), multi-frame TIFFs counted. Nothing is fetched before
//! the run starts, downloading overlaps decoding and inference, and only a
//! bounded number of units wait, so memory stays flat however many inputs
//! there are. Units come out in input order.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{failed, item_units, InputItem, Unit};
use crate::quiet_panic::{catch_quietly, payload_text};
use crate::stop::Stop;

/// Items expanded (URLs downloaded) at the same time.
pub(crate) const DOWNLOADS_AT_ONCE: usize = 4;

/// Units made ahead of the pipeline, waiting to be decoded.
const UNITS_AHEAD: usize = 16;

/// What a [`UnitStream`] has done so far, shared with the run's reporting.
#[derive(Debug, Default)]
pub(crate) struct StreamCounts {
    /// Units handed to the pipeline.
    produced: AtomicUsize,
    /// Units left out by the `keep` filter (`--skip_existing`).
    skipped: AtomicUsize,
    /// Items not expanded yet.
    remaining: AtomicUsize,
}

impl StreamCounts {
    /// The units known so far: those handed out, plus one for each item not
    /// expanded yet (a PDF or multi-frame TIFF among them counts as one).
    pub(crate) fn known_total(&self) -> usize {
        self.produced.load(Ordering::SeqCst) + self.remaining.load(Ordering::SeqCst)
    }

    /// Units left out by the filter.
    pub(crate) fn skipped(&self) -> usize {
        self.skipped.load(Ordering::SeqCst)
    }
}

/// How often a wait for the next unit looks at the stop request.
const STOP_POLL: Duration = Duration::from_millis(100);

/// How long dropping a stream waits for its thread to end.
const DROP_WAIT: Duration = Duration::from_secs(3);

/// An iterator over the units of a list of items, made on a background
/// thread. Once a stop is requested it ends within [`STOP_POLL`], even while
/// a download is stalled. Dropping it cancels the downloads in progress
/// (their partial files removed) and waits for the thread, at most
/// [`DROP_WAIT`]: a download stalled longer is left to end with the process.
pub(crate) struct UnitStream {
    units: Option<Receiver<Unit>>,
    cancel: Arc<AtomicBool>,
    stop: Stop,
    worker: Option<JoinHandle<()>>,
    counts: Arc<StreamCounts>,
}

impl UnitStream {
    /// Starts making the units of `items`, in order; a unit for which `keep`
    /// is false is left out and counted as skipped. Once `stop` is
    /// requested, no more items are expanded.
    pub(crate) fn spawn(
        items: Vec<InputItem>,
        keep: impl Fn(&Unit) -> bool + Send + 'static,
        stop: Stop,
    ) -> Self {
        let counts = Arc::new(StreamCounts::default());
        counts.remaining.store(items.len(), Ordering::SeqCst);
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::sync_channel(UNITS_AHEAD);
        let expander = Expander {
            tx,
            keep: Box::new(keep),
            stop: stop.clone(),
            cancel: Arc::clone(&cancel),
            counts: Arc::clone(&counts),
        };
        let worker = std::thread::Builder::new()
            .name("inputs".into())
            .spawn(move || expander.run(items));
        let worker = match worker {
            Ok(handle) => Some(handle),
            Err(e) => {
                crate::log::error(&format!("cannot start the input thread: {e}"));
                None
            }
        };
        UnitStream {
            units: Some(rx),
            cancel,
            stop,
            worker,
            counts,
        }
    }

    /// The counters, readable while and after the stream runs.
    pub(crate) fn counts(&self) -> Arc<StreamCounts> {
        Arc::clone(&self.counts)
    }
}

impl Iterator for UnitStream {
    type Item = Unit;

    fn next(&mut self) -> Option<Unit> {
        let units = self.units.as_ref()?;
        loop {
            match units.recv_timeout(STOP_POLL) {
                Ok(unit) => return Some(unit),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {
                    if self.stop.requested().is_some() {
                        self.cancel.store(true, Ordering::SeqCst);
                        return None;
                    }
                }
            }
        }
    }
}

impl Drop for UnitStream {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        // Closing the queue ends a thread waiting to hand over a unit.
        self.units = None;
        if let Some(worker) = self.worker.take() {
            let start = Instant::now();
            while !worker.is_finished() && start.elapsed() < DROP_WAIT {
                std::thread::sleep(Duration::from_millis(10));
            }
            if worker.is_finished() {
                let _ = worker.join();
            }
        }
    }
}

/// The background thread's side.
struct Expander {
    tx: SyncSender<Unit>,
    keep: Box<dyn Fn(&Unit) -> bool + Send>,
    stop: Stop,
    cancel: Arc<AtomicBool>,
    counts: Arc<StreamCounts>,
}

impl Expander {
    /// Expands the items a window at a time (the URLs of a window download
    /// in parallel) and hands out their units in order, each item's as soon
    /// as it and those before it are done.
    fn run(self, items: Vec<InputItem>) {
        for window in items.chunks(DOWNLOADS_AT_ONCE) {
            if self.cancel.load(Ordering::SeqCst) || self.stop.requested().is_some() {
                return;
            }
            let cancel = &*self.cancel;
            let urls = window
                .iter()
                .filter(|i| matches!(i, InputItem::Url(_)))
                .count();
            let handed_out = if urls < 2 {
                window
                    .iter()
                    .all(|item| self.hand_out(guarded(item, cancel)))
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = window
                        .iter()
                        .map(|item| scope.spawn(move || guarded(item, cancel)))
                        .collect();
                    handles.into_iter().zip(window).all(|(handle, item)| {
                        let units = handle.join().unwrap_or_else(|panic| {
                            vec![internal_error(item, payload_text(&*panic))]
                        });
                        self.hand_out(units)
                    })
                })
            };
            if !handed_out {
                return;
            }
        }
    }

    /// Hands out one item's units that `keep` accepts; false when the
    /// stream has been dropped.
    fn hand_out(&self, units: Vec<Unit>) -> bool {
        let (kept, left_out): (Vec<Unit>, Vec<Unit>) =
            units.into_iter().partition(|unit| (self.keep)(unit));
        self.counts
            .skipped
            .fetch_add(left_out.len(), Ordering::SeqCst);
        // The item's units replace it in the total before any is handed
        // out, so that a unit being reported is always counted.
        self.counts.produced.fetch_add(kept.len(), Ordering::SeqCst);
        self.counts.remaining.fetch_sub(1, Ordering::SeqCst);
        kept.into_iter().all(|unit| self.tx.send(unit).is_ok())
    }
}

/// [`item_units`] with a panic (a parser bug that a hostile file finds)
/// turned into that item's error.
fn guarded(item: &InputItem, cancel: &AtomicBool) -> Vec<Unit> {
    catch_quietly(|| item_units(item, cancel))
        .unwrap_or_else(|panic| vec![internal_error(item, &panic)])
}

fn internal_error(item: &InputItem, message: &str) -> Unit {
    failed(
        item.display(),
        format!("internal error while reading: {message}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{to_units, Source};

    fn files(n: usize) -> Vec<InputItem> {
        (0..n)
            .map(|i| InputItem::File(format!("{i:03}.png")))
            .collect()
    }

    #[test]
    fn units_come_in_order_with_the_filter_applied() {
        let items = files(40);
        let stream = UnitStream::spawn(
            items.clone(),
            |u: &Unit| !u.input_path.ends_with("3.png"),
            Stop::new(),
        );
        let counts = stream.counts();
        let got: Vec<Unit> = stream.collect();
        let want: Vec<Unit> = to_units(&items)
            .into_iter()
            .filter(|u| !u.input_path.ends_with("3.png"))
            .collect();
        assert_eq!(got, want);
        assert_eq!(counts.skipped(), 4);
        assert_eq!(counts.known_total(), 36);
    }

    #[test]
    fn only_a_bounded_number_of_units_is_made_ahead() {
        let mut stream = UnitStream::spawn(files(1000), |_: &Unit| true, Stop::new());
        let counts = stream.counts();
        assert!(stream.next().is_some());
        std::thread::sleep(std::time::Duration::from_millis(200));
        let produced = counts.produced.load(Ordering::SeqCst);
        assert!(
            produced <= 1 + UNITS_AHEAD + DOWNLOADS_AT_ONCE,
            "{produced} units made ahead"
        );
        assert_eq!(counts.known_total(), 1000);
        // Dropping the stream ends its thread.
        drop(stream);
    }

    #[test]
    fn a_stop_request_ends_the_expansion() {
        let stop = Stop::new();
        stop.request(crate::stop::StopReason::Interrupt);
        let stream = UnitStream::spawn(files(10), |_: &Unit| true, stop);
        assert_eq!(stream.count(), 0);
    }

    #[test]
    fn a_pdf_is_parsed_once_for_all_its_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("three.pdf");
        std::fs::write(&path, three_page_pdf()).unwrap();
        let items = vec![InputItem::File(path.to_string_lossy().into_owned())];
        let units: Vec<Unit> = UnitStream::spawn(items, |_: &Unit| true, Stop::new()).collect();
        assert_eq!(units.len(), 3);
        let docs: Vec<_> = units
            .iter()
            .map(|u| match &u.source {
                Source::PdfPage(doc) => Arc::clone(doc),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(docs.iter().all(|d| Arc::ptr_eq(d, &docs[0])), "one parse");
        // The pages render from the parsed document, not by reading the file again.
        std::fs::remove_file(&path).unwrap();
        for (i, unit) in units.iter().enumerate() {
            assert_eq!(unit.page_index, Some(i));
            let page = crate::input::load(unit).unwrap();
            assert_eq!(page.dimensions(), (20, 10));
        }
    }

    /// A PDF of three empty 10 x 5 pt pages.
    fn three_page_pdf() -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 5] >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 5] >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 5] >>".to_string(),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 6\n0000000000 65535 f \n");
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    }
}
