//! PaddleX's `Topk`: the k best classes of one probability row, and their
//! labels (inference.yml's `label_list`, else the ONNX metadata, else the
//! class ids). The CLI pipeline and the server both classify rows here.

use std::cmp::Ordering;

use crate::runtime::Classifier;

/// The top-k of one image, before labels are attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TopK {
    /// Class indices, best first.
    pub class_ids: Vec<i32>,
    /// Their scores, rounded to 5 decimals in float32 like `np.around`.
    pub scores: Vec<f32>,
}

/// Picks the `k` highest scores of `row` (all of them when `k` exceeds the
/// row), in the order of PaddleX's `argsort(row)[-k:][::-1]`: descending by
/// raw score, NaN (of either sign) above every number, as numpy sorts it
/// last, and `-0.0` equal to `0.0`. Equal raw scores (NaNs included) put the
/// higher index first, which is what a stable ascending sort read backwards
/// gives (numpy's own order for exact ties is unspecified).
pub(crate) fn top_k(row: &[f32], k: usize) -> TopK {
    let mut order: Vec<usize> = (0..row.len()).collect();
    let k = k.min(row.len());
    let better = |a: &usize, b: &usize| numpy_order(row[*b], row[*a]).then(b.cmp(a));
    if k < order.len() && k > 0 {
        order.select_nth_unstable_by(k - 1, better);
        order.truncate(k);
    }
    order.truncate(k);
    order.sort_by(better);
    TopK {
        class_ids: order.iter().map(|&i| i as i32).collect(),
        scores: order.iter().map(|&i| round5(row[i])).collect(),
    }
}

/// numpy's ascending sort order of two floats: NaN after every number and
/// equal to another NaN; numbers by value. A total order, unlike
/// `partial_cmp`, so sorting with it never panics.
fn numpy_order(a: f32, b: f32) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// `np.around(x, 5)` on a float32: multiply, round half to even, divide, all in float32.
pub(crate) fn round5(x: f32) -> f32 {
    const SCALE: f32 = 100_000.0;
    (x * SCALE).round_ties_even() / SCALE
}

/// The effective k: `--topk` (non-zero) > pipeline YAML `topk` (non-zero) >
/// inference.yml `topk`, else 5.
pub fn resolve_k(cli: Option<i64>, pipeline: Option<i64>, model: Option<i64>) -> usize {
    [cli, pipeline, model]
        .into_iter()
        .flatten()
        .find(|&k| k > 0)
        .map_or(5, |k| k as usize)
}

/// The top-k of one row with the labels of its classes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ranked {
    /// Class indices, best first.
    pub class_ids: Vec<i32>,
    /// Their scores, rounded like [`round5`].
    pub scores: Vec<f32>,
    /// Their labels ([`label_for`]).
    pub label_names: Vec<String>,
}

/// Top-`k` of `row`, labelled from `labels`.
pub(crate) fn classify(row: &[f32], k: usize, labels: Option<&[String]>) -> Ranked {
    let TopK { class_ids, scores } = top_k(row, k);
    let label_names = class_ids.iter().map(|&id| label_for(labels, id)).collect();
    Ranked {
        class_ids,
        scores,
        label_names,
    }
}

/// The label of a class id, or the id itself (PaddleX 3.5+'s fallback).
pub(crate) fn label_for(labels: Option<&[String]>, id: i32) -> String {
    usize::try_from(id)
        .ok()
        .and_then(|i| labels.and_then(|l| l.get(i)))
        .cloned()
        .unwrap_or_else(|| id.to_string())
}

/// The labels to show: `label_list` (inference.yml) when there is one, else
/// the labels in the classifier's ONNX metadata.
pub(crate) fn model_labels(
    label_list: Option<Vec<String>>,
    classifier: Option<&Classifier>,
) -> Option<Vec<String>> {
    label_list.or_else(|| classifier?.metadata_labels())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_descending_and_breaks_ties_by_higher_index() {
        let mut row = vec![0.0f32; 1000];
        row[500] = 1.0;
        assert_eq!(top_k(&row, 5).class_ids, [500, 999, 998, 997, 996]);
        let mut row = vec![0.0f32; 1000];
        for i in [3, 10, 700] {
            row[i] = 0.5;
        }
        assert_eq!(top_k(&row, 3).class_ids, [700, 10, 3]);
    }

    /// The expected orders are numpy 2.4's, from
    /// `np.argsort(np.array([row], np.float32), axis=1, kind="stable")[:, -k:][:, ::-1]`.
    /// The default sort gives the same on the short rows; on the long one it
    /// orders the exactly equal non-NaN scores differently (`[999, 400, 5, 290, 969]`),
    /// which is the unspecified tie order documented above.
    #[test]
    fn nan_rows_sort_like_numpy_argsort_read_backwards() {
        let nan = f32::NAN;
        assert_eq!(top_k(&[0.1, nan, 0.7, 0.2], 3).class_ids, [1, 2, 3]);
        assert_eq!(top_k(&[0.3, nan, 0.5, nan, 0.2], 3).class_ids, [3, 1, 2]);
        assert_eq!(top_k(&[nan, nan, nan, 0.5], 3).class_ids, [2, 1, 0]);
        assert_eq!(
            top_k(&[0.2, -nan, f32::INFINITY, 0.1], 3).class_ids,
            [1, 2, 0]
        );
        assert_eq!(top_k(&[-0.0, 0.0, nan, 0.4], 3).class_ids, [2, 3, 1]);
        // A long row exercises the partial selection as well as the sort.
        let mut row: Vec<f32> = (0..1000).map(|i| (i % 97) as f32 / 97.0).collect();
        for i in [5, 400, 999] {
            row[i] = nan;
        }
        let top = top_k(&row, 5);
        assert_eq!(top.class_ids, [999, 400, 5, 969, 872]);
        assert!(top.scores[..3].iter().all(|s| s.is_nan()));
    }

    #[test]
    fn k_larger_than_the_classes_returns_all() {
        let t = top_k(&[0.1, 0.7, 0.2], 10);
        assert_eq!(t.class_ids, [1, 2, 0]);
        assert_eq!(t.scores, [0.7, 0.2, 0.1]);
    }

    #[test]
    fn rounds_like_numpy_around_in_float32() {
        assert_eq!(round5(0.388_775_3), 0.38878);
        assert_eq!(round5(0.273_365_8) as f64, 0.27336999773979187);
        assert_eq!(round5(1.0), 1.0);
        assert_eq!(round5(0.0), 0.0);
        assert_eq!(round5(1.2e-6), 0.0);
    }

    #[test]
    fn labels_come_from_the_list_else_the_class_id() {
        let labels = ["cat".to_string(), "dog".to_string()];
        let ranked = classify(&[0.2, 0.7, 0.1], 3, Some(&labels));
        assert_eq!(ranked.class_ids, [1, 0, 2]);
        assert_eq!(ranked.label_names, ["dog", "cat", "2"]);
        assert_eq!(classify(&[0.2, 0.7], 1, None).label_names, ["1"]);
        assert_eq!(label_for(Some(&labels), -1), "-1");
    }

    #[test]
    fn k_precedence_and_zero_means_unset() {
        assert_eq!(resolve_k(Some(2), Some(5), Some(1)), 2);
        assert_eq!(resolve_k(Some(0), Some(3), Some(1)), 3);
        assert_eq!(resolve_k(None, None, Some(1)), 1);
        assert_eq!(resolve_k(None, Some(0), None), 5);
    }
}
