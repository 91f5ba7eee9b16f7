//! PaddleX's `Topk`: the k best classes of one probability row.

/// The top-k of one image, before labels are attached.
#[derive(Debug, Clone, PartialEq)]
pub struct TopK {
    /// Class indices, best first.
    pub class_ids: Vec<i32>,
    /// Their scores, rounded to 5 decimals in float32 like `np.around`.
    pub scores: Vec<f32>,
}

/// Picks the `k` highest scores of `row` (all of them when `k` exceeds the
/// row). Descending by raw score; equal raw scores put the higher index first,
/// which is what a stable ascending sort read backwards gives (numpy's own
/// order for exact ties is unspecified).
pub fn top_k(row: &[f32], k: usize) -> TopK {
    let mut order: Vec<usize> = (0..row.len()).collect();
    let k = k.min(row.len());
    let better = |a: &usize, b: &usize| {
        row[*b]
            .partial_cmp(&row[*a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.cmp(a))
    };
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

/// `np.around(x, 5)` on a float32: multiply, round half to even, divide, all in float32.
pub fn round5(x: f32) -> f32 {
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
    fn k_precedence_and_zero_means_unset() {
        assert_eq!(resolve_k(Some(2), Some(5), Some(1)), 2);
        assert_eq!(resolve_k(Some(0), Some(3), Some(1)), 3);
        assert_eq!(resolve_k(None, None, Some(1)), 1);
        assert_eq!(resolve_k(None, Some(0), None), 5);
    }
}
