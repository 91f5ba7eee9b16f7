//! The one batch runner of the CLI pipeline and the server: stacks
//! preprocessed images into one input tensor, runs it, and hands back one
//! probability row per image.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::session::Classifier;

/// How the model takes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Planar `[N, 3, H, W]` (inference.yml has `ToCHWImage`).
    Chw,
    /// Interleaved `[N, H, W, 3]`.
    Hwc,
}

impl Layout {
    /// `Chw` when the preprocessing ends planar (`ToCHWImage`), else `Hwc`.
    pub(crate) fn planar(chw: bool) -> Self {
        if chw {
            Layout::Chw
        } else {
            Layout::Hwc
        }
    }
}

/// One preprocessed image: its tensor and its size (width, height).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Image<'a> {
    /// `3 × width × height` values in the model's layout.
    pub tensor: &'a [f32],
    /// Width and height after preprocessing.
    pub size: (u32, u32),
}

/// Runs batches of up to `batch_size` images on one session.
///
/// Padding: a batch is padded with zero images to the next size in
/// {1, 2, 4, …, `batch_size`} (powers of two, then `batch_size` itself), so
/// the runtime sees a handful of input shapes however batches are cut
/// (varying shapes grow ONNX Runtime's memory arena), while a lone image
/// never costs more than two. Padding happens only for models whose
/// preprocessing gives one size (a crop or a fixed resize).
#[derive(Debug, Clone)]
pub(crate) struct BatchRunner {
    batch_size: usize,
    layout: Layout,
    pad: bool,
    buffer: Vec<f32>,
}

impl BatchRunner {
    /// A runner for batches of at most `batch_size` images; `pad` when the
    /// preprocessing gives every image the same size.
    pub(crate) fn new(batch_size: usize, layout: Layout, pad: bool) -> Self {
        BatchRunner {
            batch_size: batch_size.max(1),
            layout,
            pad,
            buffer: Vec::new(),
        }
    }

    /// The most images one run takes.
    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// One row per image, in order, or that image's error. Images of the
    /// same size run together, in runs of at most the batch size; an error
    /// (or a panic inside the runtime) fails the images of its run only.
    pub(crate) fn run(
        &mut self,
        classifier: &mut Classifier,
        images: &[Image<'_>],
    ) -> Vec<Result<Vec<f32>, String>> {
        let mut rows: Vec<Option<Result<Vec<f32>, String>>> = vec![None; images.len()];
        let mut pending: Vec<usize> = (0..images.len()).collect();
        while let Some(&first) = pending.first() {
            let size = images[first].size;
            let (group, rest): (Vec<usize>, Vec<usize>) =
                pending.iter().partition(|&&i| images[i].size == size);
            pending = rest;
            for run in group.chunks(self.batch_size) {
                let stacked: Vec<&[f32]> = run.iter().map(|&i| images[i].tensor).collect();
                let result = self.run_stacked(classifier, &stacked, size);
                match result {
                    Ok(out) => {
                        for (&i, row) in run.iter().zip(out) {
                            rows[i] = Some(Ok(row));
                        }
                    }
                    Err(reason) => {
                        for &i in run {
                            rows[i] = Some(Err(reason.clone()));
                        }
                    }
                }
            }
        }
        rows.into_iter()
            .map(|row| row.unwrap_or_else(|| Err("no inference result".into())))
            .collect()
    }

    /// The padded batch size for `n` images.
    fn padded(&self, n: usize) -> usize {
        if !self.pad {
            return n;
        }
        n.next_power_of_two().min(self.batch_size).max(n)
    }

    /// Stacks same-size tensors (at most the batch size) and runs them.
    fn run_stacked(
        &mut self,
        classifier: &mut Classifier,
        tensors: &[&[f32]],
        (w, h): (u32, u32),
    ) -> Result<Vec<Vec<f32>>, String> {
        let per_image = tensors[0].len();
        let padded = self.padded(tensors.len());
        self.buffer.clear();
        for t in tensors {
            self.buffer.extend_from_slice(t);
        }
        self.buffer.resize(per_image * padded, 0.0);
        let (w, h) = (w as usize, h as usize);
        let shape = match self.layout {
            Layout::Chw => [padded, 3, h, w],
            Layout::Hwc => [padded, h, w, 3],
        };
        let buffer = &self.buffer;
        let mut rows = match catch_unwind(AssertUnwindSafe(|| classifier.run(buffer, &shape))) {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("inference panicked".into()),
        };
        if rows.len() != padded {
            return Err(format!(
                "the model returned {} rows for {} images",
                rows.len(),
                padded
            ));
        }
        rows.truncate(tensors.len());
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_powers_of_two_then_the_batch_size() {
        let runner = BatchRunner::new(6, Layout::Chw, true);
        let sizes: Vec<usize> = (1..=6).map(|n| runner.padded(n)).collect();
        assert_eq!(sizes, [1, 2, 4, 4, 6, 6]);
        let unpadded = BatchRunner::new(6, Layout::Chw, false);
        assert_eq!(unpadded.padded(3), 3);
        let one = BatchRunner::new(1, Layout::Hwc, true);
        assert_eq!(one.padded(1), 1);
    }
}
