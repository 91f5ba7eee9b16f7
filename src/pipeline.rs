//! The classification pipeline, one batch at a time:
//! input → decode → preprocess → infer → postprocess.
//!
//! Decoding and preprocessing run in parallel across the batch; inference
//! runs the batch as one tensor. Each input gives an [`Outcome`] in input
//! order, a failure included, so one bad file never stops the others.

use std::path::Path;

use image::RgbImage;
use rayon::prelude::*;

use crate::image::decode::{decode_file, DecodeError};
use crate::image::preprocess::{PreprocessError, Preprocessor};
use crate::input::{self, InputItem};
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
    image: RgbImage,
    size: (u32, u32),
    tensor: Vec<f32>,
}

impl Pipeline {
    /// Loads the model of `model` for batches of `batch_size`.
    pub fn new(model: &ModelDir, batch_size: usize) -> Result<Self, PipelineError> {
        let pre = Preprocessor::from_ops(&model.config.transform_ops)?;
        let classifier = Classifier::load(&model.onnx, cpu_threads())?;
        let labels = model_labels(model, &classifier);
        Ok(Pipeline {
            pre,
            classifier,
            labels,
            batch_size: batch_size.max(1),
            batches_run: 0,
        })
    }

    /// Classifies `items` with top-`k`, calling `sink` once per input, in order.
    pub fn run(&mut self, items: &[InputItem], k: usize, mut sink: impl FnMut(Outcome)) {
        for chunk in items.chunks(self.batch_size) {
            let prepared: Vec<Result<Prepared, (String, String)>> = chunk
                .par_iter()
                .map(|item| prepare(&self.pre, item))
                .collect();
            let mut results = self.infer(&prepared, k);
            for entry in prepared {
                let outcome = match entry {
                    Ok(p) => Outcome {
                        result: results.remove(0).map(|c| (c, p.image)),
                        input_path: p.input_path,
                    },
                    Err((input_path, reason)) => Outcome {
                        input_path,
                        result: Err(reason),
                    },
                };
                sink(outcome);
            }
        }
    }

    /// Runs inference on the prepared entries of one batch; one result per `Ok` entry, in order.
    fn infer(
        &mut self,
        prepared: &[Result<Prepared, (String, String)>],
        k: usize,
    ) -> Vec<Result<Classification, String>> {
        let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        if ready.is_empty() {
            return Vec::new();
        }
        let same_size = ready.iter().all(|p| p.size == ready[0].size);
        let rows = if same_size {
            self.run_batch(&ready).map_err(|e| e.to_string())
        } else {
            // Without a crop or fixed size the shapes differ: PaddleX cannot
            // stack them at all; we run them one by one.
            ready
                .iter()
                .map(|p| self.run_batch(&[p]).map(|mut r| r.remove(0)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())
        };
        self.batches_run += 1;
        match rows {
            Ok(rows) => ready
                .iter()
                .zip(rows)
                .map(|(p, row)| Ok(self.classify_row(&p.input_path, &row, k)))
                .collect(),
            Err(reason) => ready.iter().map(|_| Err(reason.clone())).collect(),
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

    fn classify_row(&self, input_path: &str, row: &[f32], k: usize) -> Classification {
        let top = top_k(row, k);
        let label_names = top.class_ids.iter().map(|&id| self.label(id)).collect();
        Classification {
            input_path: input_path.to_string(),
            page_index: None,
            class_ids: top.class_ids,
            scores: top.scores,
            label_names,
        }
    }

    fn label(&self, id: i32) -> String {
        label_for(self.labels.as_deref(), id)
    }
}

/// The model's labels: inference.yml's `label_list`, else the ONNX metadata.
pub fn model_labels(model: &ModelDir, classifier: &Classifier) -> Option<Vec<String>> {
    model
        .config
        .label_list
        .clone()
        .or_else(|| classifier.metadata_labels())
}

/// The label of a class id, or the id itself (PaddleX 3.5+'s fallback).
pub fn label_for(labels: Option<&[String]>, id: i32) -> String {
    usize::try_from(id)
        .ok()
        .and_then(|i| labels.and_then(|l| l.get(i)))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// Fetches (URLs), decodes and preprocesses one input.
fn prepare(pre: &Preprocessor, item: &InputItem) -> Result<Prepared, (String, String)> {
    let path = match item {
        InputItem::File(path) => path.clone(),
        InputItem::Url(url) => input::download(url)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| (url.clone(), e.to_string()))?,
    };
    let fail = |reason: String| (path.clone(), reason);
    check_file_type(&path).map_err(fail)?;
    let image = decode_file(Path::new(&path)).map_err(|e| fail(decode_reason(&path, e)))?;
    let (size, tensor) = pre.run(&image).map_err(|e| fail(e.to_string()))?;
    Ok(Prepared {
        input_path: path,
        image,
        size,
        tensor,
    })
}

/// Refuses files whose suffix is not an image type (PaddleX's input rule).
fn check_file_type(path: &str) -> Result<(), String> {
    if input::has_image_suffix(path) {
        return Ok(());
    }
    match input::suffix(path) {
        Some(s) if s == "pdf" => Err("PDF input is not supported yet".into()),
        Some(s) => Err(format!(
            "unsupported file type `.{s}`; supported image suffixes: {}",
            input::IMAGE_SUFFIXES.join(", ")
        )),
        None if !Path::new(path).exists() => Err(DecodeError::NotFound.to_string()),
        None => Err(format!(
            "no file suffix; supported image suffixes: {}",
            input::IMAGE_SUFFIXES.join(", ")
        )),
    }
}

fn decode_reason(path: &str, err: DecodeError) -> String {
    match err {
        DecodeError::NotFound if Path::new(path).is_dir() => "is a directory".into(),
        other => other.to_string(),
    }
}
