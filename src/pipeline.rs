//! The classification pipeline, one batch at a time:
//! input → decode → preprocess → infer → postprocess.
//!
//! Decoding and preprocessing run in parallel across the batch, ahead of
//! inference; inference runs the batch as one tensor. Each input gives an [`Outcome`] in input
//! order, a failure included, so one bad file never stops the others.

use image::RgbImage;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::imaging::decode;
use crate::imaging::decode::scale::MinSize;
use crate::imaging::preprocess::{PreprocessError, Preprocessor};
use crate::input::{self, Unit};
use crate::model::ModelDir;
use crate::postprocess::{classify, model_labels};
use crate::quiet_panic::catch_quietly;
use crate::result::Classification;
use crate::runtime::batch::{self, BatchRunner, Layout};
use crate::runtime::load::{load_sessions, LoadError};
use crate::runtime::{Classifier, ExecutionPlan};
use crate::stop::Stop;
use crate::visualize::Visual;

/// One input's result: the classification with what was kept of the decoded
/// image (for the visualisation), or the reason it failed.
pub struct Outcome {
    /// The input path (the local copy for URLs), as it appears in results.
    pub input_path: String,
    /// The page (PDF) or frame (TIFF), if any.
    pub page_index: Option<usize>,
    /// The result with the kept image (when asked for), or a one-line reason.
    pub result: Result<(Classification, Option<Visual>), String>,
}

/// Turns a decoded image into what the caller keeps of it for the
/// visualisation. It runs on the decoding threads, right after preprocessing.
pub type KeepVisual<'a> = &'a (dyn Fn(&Unit, RgbImage) -> Visual + Sync);

/// A model's preprocessing and its inference sessions (loaded, or loading).
pub struct Pipeline {
    pre: Preprocessor,
    batch_size: usize,
    sessions: SessionState,
    /// `--fast_decode`: the bound for reduced JPEG decodes, if on.
    reduce: Option<MinSize>,
}

/// The sessions, or the thread still loading them.
enum SessionState {
    Ready(Sessions),
    Loading(JoinHandle<Result<Sessions, PipelineError>>),
    /// Loading failed and its error has been returned.
    Failed,
}

/// Loaded sessions with the labels and the plan that really runs.
struct Sessions {
    classifiers: Vec<Classifier>,
    labels: Option<Vec<String>>,
    plan: ExecutionPlan,
}

/// Why the pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// inference.yml's preprocessing is unusable.
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    /// The sessions failed to load (runtime, model, or a device that may
    /// not fall back).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The loading thread panicked.
    #[error("loading the model failed unexpectedly")]
    Panicked,
    /// An earlier call already returned the loading error.
    #[error("the model failed to load")]
    Unavailable,
}

impl Pipeline {
    #[cfg(test)]
    /// Loads the model of `model` on the CPU for batches of `batch_size`.
    pub(crate) fn new(model: &ModelDir, batch_size: usize) -> Result<Self, PipelineError> {
        Self::with_plan(
            model,
            batch_size,
            &ExecutionPlan::cpu(crate::runtime::threads::cpu_threads()),
        )
    }

    /// Loads the model as `plan` says: one session per device id (see
    /// [`load_sessions`] for the fallback rules).
    pub fn with_plan(
        model: &ModelDir,
        batch_size: usize,
        plan: &ExecutionPlan,
    ) -> Result<Self, PipelineError> {
        let pre = Preprocessor::from_ops(&model.config.transform_ops)?;
        let sessions = Sessions::load(&model.onnx, model.config.label_list.clone(), plan)?;
        Ok(Self::assemble(
            pre,
            batch_size,
            SessionState::Ready(sessions),
        ))
    }

    /// Like [`Pipeline::with_plan`], but the sessions load on a thread of
    /// their own so that decoding the first inputs overlaps loading the
    /// runtime and the model. Preprocessing errors are returned at once;
    /// loading errors by [`Pipeline::ready`] or [`Pipeline::run`].
    pub(crate) fn load_in_background(
        model: &ModelDir,
        batch_size: usize,
        plan: &ExecutionPlan,
    ) -> Result<Self, PipelineError> {
        let pre = Preprocessor::from_ops(&model.config.transform_ops)?;
        let (onnx, labels, plan) = (
            model.onnx.clone(),
            model.config.label_list.clone(),
            plan.clone(),
        );
        let loading = std::thread::spawn(move || Sessions::load(&onnx, labels, &plan));
        Ok(Self::assemble(
            pre,
            batch_size,
            SessionState::Loading(loading),
        ))
    }

    fn assemble(pre: Preprocessor, batch_size: usize, sessions: SessionState) -> Self {
        Pipeline {
            pre,
            batch_size: batch_size.max(1),
            sessions,
            reduce: None,
        }
    }

    /// The number of inputs inferred together.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Changes the batch size for later runs (at least 1): the Python API's
    /// `model.predict(..., batch_size=n)`, which PaddleX keeps for later calls.
    pub fn set_batch_size(&mut self, batch_size: usize) {
        self.batch_size = batch_size.max(1);
    }

    /// `--fast_decode`: JPEGs are decoded at the largest libjpeg DCT
    /// reduction that the resize still shrinks from
    /// ([`Preprocessor::min_decode_size`]); results then differ slightly
    /// from PaddleX's. Off by default. Without ResizeImage it changes nothing.
    pub(crate) fn set_fast_decode(&mut self, on: bool) {
        self.reduce = if on { self.pre.min_decode_size() } else { None };
    }

    /// Waits for the sessions; returns how inference runs (after any fallback).
    pub(crate) fn ready(&mut self) -> Result<&ExecutionPlan, PipelineError> {
        Ok(&self.sessions.sessions()?.plan)
    }

    /// Classifies `units` (taken from the iterator as the run goes, so they
    /// may be made on the fly: see [`crate::input::stream`]) with top-`k`, calling `on_ready` with the plan once
    /// the sessions are loaded, then `sink` with each batch's outcomes, in
    /// order. The decoded images are kept for the caller (for the
    /// visualisation), as `keep` turns them, only when `keep` is given.
    ///
    /// Three stages overlap: a preparing thread decodes and preprocesses the
    /// next batches (in parallel across each batch; it starts while the
    /// sessions are still loading), inference workers (one per session) run
    /// the batches dealt to them round-robin, and the caller's thread gets
    /// the outcomes through `sink` (printing, encoding and saving happen
    /// there). Bounded queues between the stages keep memory flat however
    /// many units there are.
    ///
    /// When `sink` answers [`ControlFlow::Break`] (its output is gone), the
    /// run ends at once: no new input is prepared, and batches still in the
    /// queues are dropped. Once `stop` is requested (a signal), no new input
    /// is prepared or dealt; the batches being inferred still reach `sink`.
    pub fn run(
        &mut self,
        units: impl IntoIterator<Item = Unit, IntoIter: Send>,
        k: usize,
        keep: Option<KeepVisual<'_>>,
        stop: &Stop,
        on_ready: impl FnOnce(&ExecutionPlan),
        mut sink: impl FnMut(Vec<Outcome>) -> ControlFlow<()>,
    ) -> Result<(), PipelineError> {
        let batch_size = self.batch_size;
        let (pre, reduce) = (&self.pre, self.reduce);
        let runner = BatchRunner::new(
            batch_size,
            Layout::planar(pre.chw),
            pre.fixed_size().is_some(),
        );
        // Without saving, a prepared image is only its tensor (0.6 MB at
        // 224x224), so decoding may run well ahead: that keeps the cores busy
        // while the runtime and the model load (about 80 ms). Images kept
        // for saving make every queued batch costly (every pixel for PNG and
        // other formats; the label band and the coded rows, about a quarter,
        // for JPEG): then decoding waits for the dealer instead. Measured with
        // JPEG: one batch of queue is 1.5 % faster and takes 6 MB more.
        let depth = if keep.is_some() {
            0
        } else {
            (AHEAD_IMAGES / batch_size).max(QUEUE_BATCHES)
        };
        // Set when the sink breaks off, so that the preparing thread stops at
        // once rather than when the queues fill up.
        let halted = AtomicBool::new(false);
        let halted = &halted;
        std::thread::scope(|scope| {
            let (prepared_tx, prepared_rx) = mpsc::sync_channel::<Vec<Prepared>>(depth);
            let mut units = units.into_iter();
            scope.spawn(move || loop {
                if halted.load(Ordering::SeqCst) || stop.requested().is_some() {
                    break;
                }
                let chunk: Vec<Unit> = units.by_ref().take(batch_size).collect();
                if chunk.is_empty() {
                    break;
                }
                let batch: Vec<Prepared> = chunk
                    .par_iter()
                    .map(|unit| prepare(pre, unit, keep, reduce))
                    .collect();
                if prepared_tx.send(batch).is_err() {
                    break;
                }
            });
            // On an error `prepared_rx` is dropped here, which stops the preparing thread.
            let sessions = self.sessions.sessions()?;
            on_ready(&sessions.plan);
            let labels = sessions.labels.as_deref();
            let (mut worker_txs, mut outcome_rxs) = (Vec::new(), Vec::new());
            for classifier in &mut sessions.classifiers {
                // The dealer holds the next batch: no queue needed here.
                let (batch_tx, batch_rx) = mpsc::sync_channel::<Vec<Prepared>>(0);
                let (outcome_tx, outcome_rx) = mpsc::sync_channel::<Vec<Outcome>>(QUEUE_BATCHES);
                worker_txs.push(batch_tx);
                outcome_rxs.push(outcome_rx);
                let mut runner = runner.clone();
                scope.spawn(move || {
                    for batch in batch_rx {
                        let outcomes = infer_batch(classifier, &mut runner, labels, batch, k);
                        if outcome_tx.send(outcomes).is_err() {
                            break;
                        }
                    }
                });
            }
            // Batches are dealt round-robin and collected in the same order,
            // so results keep input order.
            scope.spawn(move || {
                for (i, batch) in prepared_rx.into_iter().enumerate() {
                    if stop.requested().is_some()
                        || worker_txs[i % worker_txs.len()].send(batch).is_err()
                    {
                        break;
                    }
                }
            });
            // The worker due next ends its queue after the last batch.
            for i in 0.. {
                let Ok(outcomes) = outcome_rxs[i % outcome_rxs.len()].recv() else {
                    break;
                };
                if sink(outcomes).is_break() {
                    halted.store(true, Ordering::SeqCst);
                    break;
                }
            }
            // Closing the outcome queues ends the workers, which ends the
            // dealer, which ends the preparing thread: the scope then joins them.
            drop(outcome_rxs);
            Ok(())
        })
    }
}

impl SessionState {
    /// The sessions, waiting for the loading thread if need be.
    fn sessions(&mut self) -> Result<&mut Sessions, PipelineError> {
        // A loading error leaves `Failed` behind.
        *self = match std::mem::replace(self, SessionState::Failed) {
            SessionState::Loading(handle) => {
                SessionState::Ready(handle.join().map_err(|_| PipelineError::Panicked)??)
            }
            settled => settled,
        };
        match self {
            SessionState::Ready(sessions) => Ok(sessions),
            _ => Err(PipelineError::Unavailable),
        }
    }
}

impl Sessions {
    /// One session per device id of `plan`, with the labels: inference.yml's
    /// `label_list`, else the ONNX metadata.
    fn load(
        onnx: &Path,
        label_list: Option<Vec<String>>,
        plan: &ExecutionPlan,
    ) -> Result<Self, PipelineError> {
        let per_device = plan.device.ids.len().max(1);
        let (classifiers, plan) = load_sessions(onnx, plan, per_device)?;
        let labels = model_labels(label_list, classifiers.first());
        Ok(Sessions {
            classifiers,
            labels,
            plan,
        })
    }
}

/// Batches prepared ahead of inference, and outcomes waiting for the caller.
const QUEUE_BATCHES: usize = 1;

/// Images decoded ahead of inference when they are not kept for saving.
const AHEAD_IMAGES: usize = 24;

/// One unit after decoding and preprocessing (or why it failed).
type Prepared = Result<Ready, Failed>;

/// A unit that could not be prepared.
struct Failed {
    input_path: String,
    page_index: Option<usize>,
    reason: String,
}

/// A decoded and preprocessed unit waiting for inference.
struct Ready {
    input_path: String,
    page_index: Option<usize>,
    visual: Option<Visual>,
    size: (u32, u32),
    tensor: Vec<f32>,
}

/// Runs one prepared batch and turns every entry into an outcome, in order.
fn infer_batch(
    classifier: &mut Classifier,
    runner: &mut BatchRunner,
    labels: Option<&[String]>,
    batch: Vec<Prepared>,
    k: usize,
) -> Vec<Outcome> {
    let images: Vec<batch::Image<'_>> = batch
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|r| batch::Image {
            tensor: &r.tensor,
            size: r.size,
        })
        .collect();
    let mut rows = runner.run(classifier, &images).into_iter();
    batch
        .into_iter()
        .map(|entry| match entry {
            Ok(r) => {
                let row = rows
                    .next()
                    .unwrap_or_else(|| Err("no inference result".into()));
                let (input_path, page_index) = (r.input_path.clone(), r.page_index);
                let classify = |row: Vec<f32>| {
                    let ranked = classify(&row, k, labels);
                    let res = Classification {
                        input_path: input_path.clone(),
                        page_index,
                        class_ids: ranked.class_ids,
                        scores: ranked.scores,
                        label_names: ranked.label_names,
                    };
                    (res, r.visual)
                };
                Outcome {
                    result: row.map(classify),
                    input_path,
                    page_index,
                }
            }
            Err(failed) => Outcome {
                input_path: failed.input_path,
                page_index: failed.page_index,
                result: Err(failed.reason),
            },
        })
        .collect()
}

/// Loads (decodes or renders) and preprocesses one unit; a JPEG reduced
/// to `reduce` when given (`--fast_decode`). A panic in the decoders or in
/// preprocessing (a bug, or a hostile file that finds one) becomes this
/// unit's error: the other inputs go on.
fn prepare(
    pre: &Preprocessor,
    unit: &Unit,
    keep: Option<KeepVisual<'_>>,
    reduce: Option<MinSize>,
) -> Prepared {
    // Nothing shared is left half-updated by a panic here: the unit is read
    // only, and the image and tensor being built are dropped with it.
    catch_quietly(|| prepare_unit(pre, unit, keep, reduce))
        .unwrap_or_else(|panic| Err(format!("internal error while decoding: {panic}")))
        .map_err(|reason| Failed {
            input_path: unit.input_path.clone(),
            page_index: unit.page_index,
            reason,
        })
}

/// A kept visual is always full size: after a reduced decode the file is
/// decoded a second time, at full size, for it. Decoding full size once and
/// using it for both would make the scores depend on `--save_path`.
fn prepare_unit(
    pre: &Preprocessor,
    unit: &Unit,
    keep: Option<KeepVisual<'_>>,
    reduce: Option<MinSize>,
) -> Result<Ready, String> {
    let (image, scale) = input::load_reduced(unit, reduce)?;
    let (size, tensor) = pre.run(&image).map_err(|e| e.to_string())?;
    let visual = match keep {
        Some(keep) if scale.is_reduced() => {
            decode::recycle(image);
            let full = input::load(unit)?;
            Some(keep(unit, full))
        }
        Some(keep) => Some(keep(unit, image)),
        None => {
            // The full-size pixels are not needed after preprocessing: the
            // next decode on this thread reuses them.
            decode::recycle(image);
            None
        }
    };
    Ok(Ready {
        input_path: unit.input_path.clone(),
        page_index: unit.page_index,
        visual,
        size,
        tensor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;
    use crate::model::resolve::open_model_dir;
    use paddle2onnx::onnx::{Attr, DataType, Dim, GraphBuilder};

    /// A tiny classifier: mean colour per channel → 3 logits → softmax, with
    /// labels only in the ONNX metadata.
    fn tiny_model(dir: &Path) -> ModelDir {
        tiny_model_with(dir, &[("labels", "red\ngreen\nblue")])
    }

    fn tiny_model_with(dir: &Path, metadata: &[(&str, &str)]) -> ModelDir {
        let mut g = GraphBuilder::new("tiny");
        g.input(
            "x",
            DataType::Float,
            &[Dim::Param("N"), Dim::Fixed(3), Dim::Fixed(8), Dim::Fixed(8)],
        );
        g.initializer("w", &[3, 3], &[4.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 4.0]);
        g.node("GlobalAveragePool", &["x"], &["pooled"], &[]);
        g.node("Flatten", &["pooled"], &["flat"], &[]);
        g.node(
            "Gemm",
            &["flat", "w"],
            &["logits"],
            &[Attr::int("transB", 1)],
        );
        g.node("Softmax", &["logits"], &["probs"], &[Attr::int("axis", 1)]);
        g.output("probs", DataType::Float, &[Dim::Param("N"), Dim::Fixed(3)]);
        let onnx = g.finish(13, metadata).unwrap();
        std::fs::write(dir.join("inference.onnx"), onnx).unwrap();
        let yml = "Global:\n  model_name: tiny\nPreProcess:\n  transform_ops:\n  - ResizeImage:\n      size: 8\n  - NormalizeImage:\n      mean: [0, 0, 0]\n      std: [1, 1, 1]\n      scale: 0.00392156862745098\n  - ToCHWImage: null\nPostProcess:\n  Topk:\n    topk: 1\n";
        std::fs::write(dir.join("inference.yml"), yml).unwrap();
        open_model_dir(dir, "tiny").unwrap()
    }

    fn units(dir: &Path) -> (Vec<Unit>, Vec<&'static str>) {
        let colours = [
            ("r", [250, 10, 10]),
            ("g", [10, 250, 10]),
            ("b", [10, 10, 250]),
        ];
        let mut units = Vec::new();
        let mut expected = Vec::new();
        for i in 0..7 {
            let (name, rgb) = colours[i % 3];
            let path = dir.join(format!("{i}_{name}.png"));
            image::RgbImage::from_pixel(5 + i as u32, 9, image::Rgb(rgb))
                .save(&path)
                .unwrap();
            units.push(Unit {
                input_path: path.to_string_lossy().into_owned(),
                page_index: None,
                source: Source::Image,
            });
            expected.push(["red", "green", "blue"][i % 3]);
        }
        (units, expected)
    }

    fn labels_of(pipeline: &mut Pipeline, units: &[Unit]) -> Vec<String> {
        let mut labels = Vec::new();
        pipeline
            .run(
                units.iter().cloned(),
                1,
                None,
                &Stop::new(),
                |_| {},
                |batch| {
                    for outcome in batch {
                        let (res, _) = outcome.result.expect("classified");
                        assert!(outcome.input_path == res.input_path);
                        labels.push(res.label_names[0].clone());
                    }
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        labels
    }

    #[test]
    fn two_sessions_dealt_round_robin_keep_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        let (units, expected) = units(dir.path());
        let (two, plan) = load_sessions(&model.onnx, &ExecutionPlan::cpu(1), 2).unwrap();
        assert_eq!(two.len(), 2);
        let sessions = Sessions {
            labels: two[0].metadata_labels(),
            classifiers: two,
            plan,
        };
        let pre = Preprocessor::from_ops(&model.config.transform_ops).unwrap();
        let mut dealt = Pipeline::assemble(pre, 2, SessionState::Ready(sessions));
        assert_eq!(
            labels_of(&mut dealt, &units),
            expected,
            "labels from the ONNX metadata, in input order"
        );
        let mut single = Pipeline::new(&model, 3).unwrap();
        assert_eq!(labels_of(&mut single, &units), expected);
        single.set_batch_size(0);
        assert_eq!(single.batch_size(), 1, "at least 1");
        single.set_batch_size(5);
        assert_eq!(labels_of(&mut single, &units), expected);
    }

    #[test]
    fn loading_in_background_gives_the_same_results_or_the_load_error() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        let (units, expected) = units(dir.path());
        let plan = ExecutionPlan::cpu(1);
        let mut background = Pipeline::load_in_background(&model, 3, &plan).unwrap();
        assert_eq!(labels_of(&mut background, &units), expected);
        assert_eq!(background.ready().unwrap(), &plan);

        let mut broken = model;
        broken.onnx = dir.path().join("missing.onnx");
        let mut pipeline = Pipeline::load_in_background(&broken, 3, &plan).unwrap();
        let mut batches = 0;
        let err = pipeline
            .run(
                units.iter().cloned(),
                1,
                None,
                &Stop::new(),
                |_| {},
                |_| {
                    batches += 1;
                    ControlFlow::Continue(())
                },
            )
            .unwrap_err();
        assert!(err.to_string().contains("missing.onnx"), "{err}");
        assert_eq!(batches, 0);
        assert!(matches!(pipeline.ready(), Err(PipelineError::Unavailable)));
    }

    #[test]
    fn a_sink_that_breaks_off_ends_the_run_without_preparing_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        let (some, _) = units(dir.path());
        let many: Vec<Unit> = some.iter().cycle().take(60).cloned().collect();
        let mut pipeline = Pipeline::new(&model, 2).unwrap();
        let prepared = std::sync::atomic::AtomicUsize::new(0);
        let keep = |_: &Unit, image: RgbImage| {
            prepared.fetch_add(1, Ordering::SeqCst);
            Visual::Pixels(image)
        };
        let mut batches = 0;
        pipeline
            .run(
                many.iter().cloned(),
                1,
                Some(&keep),
                &Stop::new(),
                |_| {},
                |_| {
                    batches += 1;
                    ControlFlow::Break(())
                },
            )
            .unwrap();
        assert_eq!(batches, 1);
        let prepared = prepared.load(Ordering::SeqCst);
        assert!(
            prepared < 20,
            "{prepared} of 60 inputs prepared after the break"
        );
    }

    #[test]
    fn a_stop_request_finishes_the_batches_in_flight_and_takes_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        let (some, _) = units(dir.path());
        let many: Vec<Unit> = some.iter().cycle().take(60).cloned().collect();
        let mut pipeline = Pipeline::new(&model, 2).unwrap();
        let stop = Stop::new();
        let mut results = 0;
        pipeline
            .run(
                many.iter().cloned(),
                1,
                None,
                &stop,
                |_| {},
                |batch| {
                    stop.request(crate::stop::StopReason::Terminate);
                    assert!(batch.iter().all(|o| o.result.is_ok()));
                    results += batch.len();
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert!((2..40).contains(&results), "{results} of 60 after the stop");
    }

    #[test]
    fn a_panic_while_preparing_one_input_fails_that_input_only() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model(dir.path());
        let (units, expected) = units(dir.path());
        let poisoned = units[3].input_path.clone();
        // `keep` runs on the decoding threads right after preprocessing,
        // inside the same guard as the decoders.
        let keep = |unit: &Unit, image: RgbImage| {
            assert!(unit.input_path != poisoned, "decoder bug");
            Visual::Pixels(image)
        };
        let mut pipeline = Pipeline::new(&model, 2).unwrap();
        let mut seen = Vec::new();
        pipeline
            .run(
                units.iter().cloned(),
                1,
                Some(&keep),
                &Stop::new(),
                |_| {},
                |batch| {
                    for o in batch {
                        seen.push(match o.result {
                            Ok((res, _)) => res.label_names[0].clone(),
                            Err(reason) => reason,
                        });
                    }
                    ControlFlow::Continue(())
                },
            )
            .unwrap();
        assert_eq!(seen.len(), units.len());
        for (i, (got, want)) in seen.iter().zip(&expected).enumerate() {
            if i == 3 {
                assert_eq!(got, "internal error while decoding: decoder bug");
            } else {
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn without_labels_the_class_ids_are_shown() {
        let dir = tempfile::tempdir().unwrap();
        let model = tiny_model_with(dir.path(), &[]);
        let (units, _) = units(dir.path());
        let mut pipeline = Pipeline::new(&model, 4).unwrap();
        assert_eq!(labels_of(&mut pipeline, &units[..3]), ["0", "1", "2"]);
        assert_eq!(crate::postprocess::label_for(None, -1), "-1");
    }
}
