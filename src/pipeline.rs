//! The classification pipeline, one batch at a time:
//! input → decode → preprocess → infer → postprocess.
//!
//! Decoding and preprocessing run in parallel across the batch; inference
//! runs the batch as one tensor. Each input gives an [`Outcome`] in input
//! order, a failure included, so one bad file never stops the others.

use image::RgbImage;
use rayon::prelude::*;

use crate::image::preprocess::{PreprocessError, Preprocessor};
use crate::input::{self, Unit};
use crate::model::ModelDir;
use crate::postprocess::top_k;
use crate::result::Classification;
use crate::runtime::session::cpu_threads;
use crate::runtime::{Classifier, RuntimeError};

/// One input's result: the classification with the decoded image (for the
/// visualisation), or the reason it failed.
pub struct Outcome {
    /// The input path (the local copy for URLs), as it appears in results.
    pub input_path: String,
    /// The page (PDF) or frame (TIFF), if any.
    pub page_index: Option<usize>,
    /// The result, or a one-line reason.
    pub result: Result<(Classification, RgbImage), String>,
}

/// A loaded model with its preprocessing and labels.
pub struct Pipeline {
    pre: Preprocessor,
    classifier: Classifier,
    labels: Option<Vec<String>>,
    batch_size: usize,
    batches_run: usize,
}

/// Why the pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// inference.yml's preprocessing is unusable.
    #[error("{0}")]
    Preprocess(#[from] PreprocessError),
    /// The runtime or model failed to load.
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
}

/// A decoded and preprocessed input waiting for inference.
struct Prepared {
    input_path: String,
    page_index: Option<usize>,
    image: RgbImage,
    size: (u32, u32),
    tensor: Vec<f32>,
}

impl Pipeline {
    /// Loads the model of `model` for batches of `batch_size`.
    pub fn new(model: &ModelDir, batch_size: usize) -> Result<Self, PipelineError> {
        let pre = Preprocessor::from_ops(&model.config.transform_ops)?;
        let classifier = Classifier::load(&model.onnx, cpu_threads())?;
        let labels = model
            .config
            .label_list
            .clone()
            .or_else(|| classifier.metadata_labels());
        Ok(Pipeline {
            pre,
            classifier,
            labels,
            batch_size: batch_size.max(1),
            batches_run: 0,
        })
    }

    /// Classifies `units` with top-`k`, calling `sink` once per unit, in order.
    pub fn run(&mut self, units: &[Unit], k: usize, mut sink: impl FnMut(Outcome)) {
        for chunk in units.chunks(self.batch_size) {
            let prepared: Vec<Result<Prepared, (&Unit, String)>> =
                chunk.par_iter().map(|unit| prepare(&self.pre, unit)).collect();
            let mut results = self.infer(&prepared, k).into_iter();
            for entry in prepared {
                let outcome = match entry {
                    Ok(p) => Outcome {
                        result: results
                            .next()
                            .unwrap_or_else(|| Err("no inference result".into()))
                            .map(|c| (c, p.image)),
                        input_path: p.input_path,
                        page_index: p.page_index,
                    },
                    Err((unit, reason)) => Outcome {
                        input_path: unit.input_path.clone(),
                        page_index: unit.page_index,
                        result: Err(reason),
                    },
                };
                sink(outcome);
            }
        }
    }

    /// Runs inference on the prepared entries of one batch; one result per `Ok` entry, in order.
    fn infer(&mut self, prepared: &[Result<Prepared, (&Unit, String)>], k: usize) -> Vec<Result<Classification, String>> {
        let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        if ready.is_empty() {
            return Vec::new();
        }
        let same_size = ready.iter().all(|p| p.size == ready[0].size);
        let rows = if same_size {
            self.run_batch(&ready)
        } else {
            // Without a crop or fixed size the shapes differ: PaddleX cannot
            // stack them at all; we run them one by one.
            ready
                .iter()
                .map(|p| self.run_batch(&[p]).map(|mut r| r.remove(0)))
                .collect::<Result<Vec<_>, _>>()
        };
        self.batches_run += 1;
        match rows {
            Ok(rows) => ready.iter().zip(rows).map(|(p, row)| Ok(self.classify_row(p, &row, k))).collect(),
            Err(e) => ready.iter().map(|_| Err(e.to_string())).collect(),
        }
    }

    /// Stacks `batch` into one tensor and runs it. After the first batch, a
    /// short last batch is padded to the batch size so the runtime sees one
    /// input shape per run (varying shapes grow its memory arena).
    fn run_batch(&mut self, batch: &[&Prepared]) -> Result<Vec<Vec<f32>>, RuntimeError> {
        let (w, h) = batch[0].size;
        let per_image = batch[0].tensor.len();
        let padded = if self.batches_run > 0
            && batch.len() < self.batch_size
            && self.pre.fixed_size().is_some()
        {
            self.batch_size
        } else {
            batch.len()
        };
        let mut data = Vec::with_capacity(per_image * padded);
        for p in batch {
            data.extend_from_slice(&p.tensor);
        }
        data.resize(per_image * padded, 0.0);
        let shape = if self.pre.chw {
            [padded, 3, h as usize, w as usize]
        } else {
            [padded, h as usize, w as usize, 3]
        };
        let mut rows = self.classifier.run(&data, &shape)?;
        rows.truncate(batch.len());
        Ok(rows)
    }

    fn classify_row(&self, p: &Prepared, row: &[f32], k: usize) -> Classification {
        let top = top_k(row, k);
        let label_names = top.class_ids.iter().map(|&id| self.label(id)).collect();
        Classification {
            input_path: p.input_path.clone(),
            page_index: p.page_index,
            class_ids: top.class_ids,
            scores: top.scores,
            label_names,
        }
    }

    /// The label of a class id, or the id itself (PaddleX 3.5+'s fallback).
    fn label(&self, id: i32) -> String {
        self.labels
            .as_ref()
            .and_then(|l| l.get(id as usize))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }
}

/// Loads (decodes or renders) and preprocesses one unit.
fn prepare<'u>(pre: &Preprocessor, unit: &'u Unit) -> Result<Prepared, (&'u Unit, String)> {
    let image = input::load(unit).map_err(|e| (unit, e))?;
    let (size, tensor) = pre.run(&image).map_err(|e| (unit, e.to_string()))?;
    Ok(Prepared {
        input_path: unit.input_path.clone(),
        page_index: unit.page_index,
        image,
        size,
        tensor,
    })
}
