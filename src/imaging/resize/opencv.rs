//! Reproduction of OpenCV 4.10 `cv::resize` on 8-bit, 3-channel images.
//!
//! OpenCV's 8-bit separable resizers work in fixed point: the per-column
//! weights are `float` values rounded to 11-bit integers
//! (`INTER_RESIZE_COEF_BITS`), a horizontal pass turns each needed source row
//! into an `int` row, and a vertical pass combines those rows.  Everything
//! below follows the exact order of float operations OpenCV uses to derive
//! positions and weights, because a single float rounding difference shifts
//! a weight by one unit and changes output pixels.
//!
//! Facts reproduced here (all checked against `opencv-python` 4.10):
//! * `dsize == ssize` is a plain copy.
//! * The scale factors are `1.0 / (dst / src)` in double precision, not
//!   `src / dst`; the two differ in the last bit for many sizes.
//! * A LINEAR downscale by exactly 2 in both directions is computed by the
//!   AREA fast path (2x2 box average).
//! * AREA is a true box filter only when both scales are >= 1; otherwise
//!   OpenCV emulates it with the LINEAR machinery and different positions.
//! * INTER_CUBIC is delegated to Intel IPP in the official wheels, so it is
//!   reported as unsupported.

use super::{for_each_band, Interpolation, Plan, ResizeError, Window, CN};
use crate::imaging::resize::ResizeLibrary;

/// `INTER_RESIZE_COEF_BITS`: fixed-point precision of the separable weights.
const COEF_SCALE: f32 = 2048.0;

/// Computes only `window` of `cv2.resize(.., INTER_LINEAR)`'s output into
/// `dst` (`window.w * window.h` pixels), bit-identical to cropping the full
/// result; `false` (nothing written) when the request takes another path.
pub(super) fn linear_window(plan: &Plan<'_>, window: Window, dst: &mut [u8]) -> bool {
    let sx = Scale::new(plan.sw, plan.dw);
    let sy = Scale::new(plan.sh, plan.dh);
    let halving = sx.is_integer() && sy.is_integer() && sx.int == 2 && sy.int == 2;
    if plan.same_size() || halving {
        return false;
    }
    linear(plan, &sx, &sy, false, window, dst);
    true
}

/// Resizes `plan` with OpenCV's algorithm for `interp`.
pub(super) fn resize(
    plan: &Plan<'_>,
    interp: Interpolation,
    dst: &mut [u8],
) -> Result<(), ResizeError> {
    if plan.same_size() {
        dst.copy_from_slice(plan.src);
        return Ok(());
    }
    let sx = Scale::new(plan.sw, plan.dw);
    let sy = Scale::new(plan.sh, plan.dh);
    let area_fast = sx.is_integer() && sy.is_integer();
    match interp {
        Interpolation::Nearest => nearest(plan, &sx, &sy, dst),
        // OpenCV swaps in the 2x2 box average here: for an exact halving the
        // bilinear weights are all 1/2, and the box average is both faster
        // and what cv2 actually returns.
        Interpolation::Linear if area_fast && sx.int == 2 && sy.int == 2 => {
            area_fast_2x2(plan, dst)
        }
        Interpolation::Linear => linear(plan, &sx, &sy, false, plan.whole(), dst),
        Interpolation::Area if sx.scale >= 1.0 && sy.scale >= 1.0 => {
            if area_fast {
                area_fast_int(plan, sx.int, sy.int, dst)
            } else {
                area_general(plan, &sx, &sy, dst)
            }
        }
        Interpolation::Area => linear(plan, &sx, &sy, true, plan.whole(), dst),
        Interpolation::Lanczos => lanczos4(plan, &sx, &sy, dst),
        Interpolation::Bicubic => {
            return Err(interp.unsupported(
                ResizeLibrary::Cv2,
                " yet: opencv-python computes 8-bit INTER_CUBIC with Intel IPP, whose \
             rounding cannot be reproduced exactly; use LINEAR, or backend pil",
            ))
        }
        Interpolation::Box => {
            return Err(
                interp.unsupported(ResizeLibrary::Cv2, ": OpenCV has no BOX filter (use AREA)")
            )
        }
    }
    Ok(())
}

/// The scale factors OpenCV derives for one axis.
struct Scale {
    /// `dst / src` (OpenCV's `inv_scale_x`).
    inv: f64,
    /// `1 / inv` (OpenCV's `scale_x`), deliberately not `src / dst`.
    scale: f64,
    /// `scale` rounded to the nearest integer.
    int: usize,
}

impl Scale {
    fn new(src: usize, dst: usize) -> Self {
        let inv = dst as f64 / src as f64;
        let scale = 1.0 / inv;
        Scale {
            inv,
            scale,
            int: scale.round_ties_even() as usize,
        }
    }

    /// OpenCV's `is_area_fast` test for this axis.
    fn is_integer(&self) -> bool {
        (self.scale - self.int as f64).abs() < f64::EPSILON
    }

    /// Source position of output index `d` with pixel centres aligned:
    /// `(floor, fraction)` of `(d + 0.5) * scale - 0.5`, computed in double
    /// and rounded to float before splitting, exactly as OpenCV does.
    fn centre_pos(&self, d: usize) -> (i64, f32) {
        let f = ((d as f64 + 0.5) * self.scale - 0.5) as f32;
        let s = f.floor();
        (s as i64, f - s)
    }

    /// Source position used when AREA has to be emulated with bilinear
    /// weights (upscaling): the fraction is the part of the output cell that
    /// spills past the source pixel boundary.
    fn area_pos(&self, d: usize) -> (i64, f32) {
        let s = (d as f64 * self.scale).floor() as i64;
        let f = ((d + 1) as f64 - (s + 1) as f64 * self.inv) as f32;
        let f = if f <= 0.0 { 0.0 } else { f - f.floor() };
        (s, f)
    }
}

/// `saturate_cast<short>(w * INTER_RESIZE_COEF_SCALE)`: OpenCV rounds the
/// float product half-to-even.
fn fixed_coef(w: f32) -> i32 {
    (w * COEF_SCALE)
        .round_ties_even()
        .clamp(i16::MIN as f32, i16::MAX as f32) as i32
}

/// Clamps a possibly out-of-range source index into `0..len`.
fn clamp_index(i: i64, len: usize) -> usize {
    i.clamp(0, len as i64 - 1) as usize
}

// ---------------------------------------------------------------------------
// NEAREST

/// `INTER_NEAREST`: `floor(d * scale)` in double, clamped to the last pixel.
fn nearest(plan: &Plan<'_>, sx: &Scale, sy: &Scale, dst: &mut [u8]) {
    let xofs: Vec<usize> = (0..plan.dw)
        .map(|dx| clamp_index((dx as f64 * sx.scale).floor() as i64, plan.sw))
        .collect();
    let row_len = plan.dw * CN;
    for_each_band(dst, row_len, plan.dw * plan.dh, |y0, band| {
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let y = clamp_index(((y0 + i) as f64 * sy.scale).floor() as i64, plan.sh);
            let (src, _) = plan.src_row(y).as_chunks::<CN>();
            let (out, _) = out.as_chunks_mut::<CN>();
            for (o, &x) in out.iter_mut().zip(&xofs) {
                *o = src[x];
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Separable fixed-point machinery (LINEAR has a specialised driver below;
// LANCZOS4 uses the generic one).

/// One output column or row of a `K`-tap separable filter: the (already
/// clamped) source pixel or row indices and their 11-bit fixed-point weights.
#[derive(Clone, Copy)]
struct Taps<const K: usize> {
    idx: [usize; K],
    w: [i32; K],
}

/// The `K`-tap weighted sum for one output pixel (all three channels).
#[inline(always)]
fn hsum<const K: usize>(px: &[[u8; CN]], t: &Taps<K>) -> [i32; CN] {
    let mut acc = [0i32; CN];
    for (&i, &w) in t.idx.iter().zip(&t.w) {
        let p = px[i];
        for c in 0..CN {
            acc[c] += i32::from(p[c]) * w;
        }
    }
    acc
}

/// Horizontal pass: one source row to one `int` row of `dw * 3` values.
fn hpass<const K: usize>(src: &[u8], taps: &[Taps<K>], out: &mut [i32]) {
    let (px, _) = src.as_chunks::<CN>();
    let (out, _) = out.as_chunks_mut::<CN>();
    for (o, t) in out.iter_mut().zip(taps) {
        *o = hsum(px, t);
    }
}

/// Horizontally resampled source rows kept for reuse by the next output
/// rows, tagged with their source row number.
struct RowCache<const K: usize> {
    tags: [usize; K],
    rows: Vec<Vec<i32>>,
}

impl<const K: usize> RowCache<K> {
    fn new(len: usize) -> Self {
        RowCache {
            tags: [usize::MAX; K],
            rows: vec![vec![0; len]; K],
        }
    }

    /// Makes every row in `needed` available, computing missing ones with
    /// `fill(row, buffer)`, and returns the slot holding each needed row.
    ///
    /// Slots whose rows are still needed are never overwritten; as at most
    /// `K` distinct rows are needed there is always a free slot for a miss.
    fn fetch(
        &mut self,
        needed: &[usize; K],
        mut fill: impl FnMut(usize, &mut [i32]),
    ) -> [usize; K] {
        let mut slots = [0; K];
        let mut keep = [false; K];
        for (s, tag) in self.tags.iter().enumerate() {
            keep[s] = needed.contains(tag);
        }
        for (k, &row) in needed.iter().enumerate() {
            if let Some(s) = self.tags.iter().position(|&t| t == row) {
                slots[k] = s;
                continue;
            }
            let s = keep.iter().position(|&kept| !kept).unwrap_or(0);
            fill(row, &mut self.rows[s]);
            self.tags[s] = row;
            keep[s] = true;
            slots[k] = s;
        }
        slots
    }
}

/// Runs a `K`-tap separable resize: each needed source row is resampled
/// horizontally into a cached `int` row, then the `K` rows named by each
/// entry of `ytaps` are combined by [`vert_fixed`].  Output rows are visited
/// in order, so each source row is resampled once per band.
fn separable<const K: usize>(
    plan: &Plan<'_>,
    xtaps: &[Taps<K>],
    ytaps: &[Taps<K>],
    dst: &mut [u8],
) {
    let row_len = plan.dw * CN;
    let work = row_len * plan.dh * K * 2;
    for_each_band(dst, row_len, work, |y0, band| {
        let mut cache = RowCache::<K>::new(row_len);
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let yt = &ytaps[y0 + i];
            let slots = cache.fetch(&yt.idx, |r, buf| hpass(plan.src_row(r), xtaps, buf));
            let rows: [&[i32]; K] = std::array::from_fn(|k| cache.rows[slots[k]].as_slice());
            vert_fixed(&rows, &yt.w, out);
        }
    });
}

// ---------------------------------------------------------------------------
// LINEAR (and AREA emulated for upscaling)

/// `INTER_LINEAR`, or the bilinear emulation of `INTER_AREA` when
/// `area_mode` is set, for the output pixels of `window` (each output pixel
/// depends only on its own position, so a window is exactly a crop).
fn linear(
    plan: &Plan<'_>,
    sx: &Scale,
    sy: &Scale,
    area_mode: bool,
    window: Window,
    dst: &mut [u8],
) {
    let pos = |s: &Scale, d| {
        if area_mode {
            s.area_pos(d)
        } else {
            s.centre_pos(d)
        }
    };
    let xtaps: Vec<Taps<2>> = (window.x..window.x + window.w)
        .map(|dx| {
            let (mut x, mut f) = pos(sx, dx);
            // Columns outside the image are pinned to the edge pixel with
            // weight 1 (OpenCV's xmin/xmax handling).
            if x < 0 {
                x = 0;
                f = 0.0;
            }
            if x >= plan.sw as i64 - 1 {
                x = plan.sw as i64 - 1;
                f = 0.0;
            }
            let w = [fixed_coef(1.0 - f), fixed_coef(f)];
            let x0 = x as usize;
            if x0 + 1 < plan.sw {
                Taps {
                    idx: [x0, x0 + 1],
                    w,
                }
            } else if x0 > 0 {
                // The last column has weights (2048, 0); express it as the
                // pair (x0 - 1, x0) with weights (0, 2048), which gives the
                // same integers, so every column reads two adjacent pixels.
                Taps {
                    idx: [x0 - 1, x0],
                    w: [w[1], w[0]],
                }
            } else {
                // A 1-pixel-wide source.
                Taps { idx: [0, 0], w }
            }
        })
        .collect();
    let ytaps: Vec<Taps<2>> = (window.y..window.y + window.h)
        .map(|dy| {
            // Unlike columns, rows keep their fraction at the borders: OpenCV
            // only clamps the two row indices (both land on the edge row), so
            // the edge row is weighted by round((1-f)*2048) + round(f*2048),
            // which after the lossy vertical arithmetic can differ by one
            // from the edge pixel itself.
            let (y, f) = pos(sy, dy);
            Taps {
                idx: [clamp_index(y, plan.sh), clamp_index(y + 1, plan.sh)],
                w: [fixed_coef(1.0 - f), fixed_coef(f)],
            }
        })
        .collect();
    let row_len = window.w * CN;
    for_each_band(dst, row_len, row_len * window.h * 4, |y0, band| {
        let mut cache = LinearRows::new(row_len);
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let yt = &ytaps[y0 + i];
            let [a, b] = cache.fetch(yt.idx, |r| plan.src_row(r), &xtaps);
            vert_linear(&[&cache.rows[a], &cache.rows[b]], &yt.w, out);
        }
    });
}

/// The two horizontally resampled rows the LINEAR vertical pass reads,
/// tagged with their source row numbers.
struct LinearRows {
    tags: [usize; 2],
    rows: [Vec<u16>; 2],
}

impl LinearRows {
    fn new(len: usize) -> Self {
        LinearRows {
            tags: [usize::MAX; 2],
            rows: [vec![0; len], vec![0; len]],
        }
    }

    /// Returns the slots holding source rows `r[0]` and `r[1]` (equal or
    /// adjacent), resampling the missing ones.  When both are missing, which
    /// is the common case when downscaling, they are resampled together so
    /// the column table is read once for two rows.
    fn fetch<'s>(
        &mut self,
        r: [usize; 2],
        src: impl Fn(usize) -> &'s [u8],
        taps: &[Taps<2>],
    ) -> [usize; 2] {
        let find = |row: usize| self.tags.iter().position(|&t| t == row);
        let slots = match (find(r[0]), find(r[1])) {
            (Some(a), Some(b)) => return [a, b],
            (Some(a), None) => [a, 1 - a],
            (None, Some(b)) => [1 - b, b],
            (None, None) if r[0] == r[1] => [0, 0],
            (None, None) => {
                let [ra, rb] = &mut self.rows;
                hpass_linear2([src(r[0]), src(r[1])], taps, [ra, rb]);
                self.tags = r;
                return [0, 1];
            }
        };
        for k in 0..2 {
            if self.tags[slots[k]] != r[k] {
                hpass_linear(src(r[k]), taps, &mut self.rows[slots[k]]);
                self.tags[slots[k]] = r[k];
            }
        }
        slots
    }
}

/// Horizontal LINEAR pass.  The vertical LINEAR pass only ever uses each
/// `int` value shifted right by 4 (which then fits in 16 bits), so the shift
/// is done here and the rows are stored as `u16`: half the memory traffic,
/// and the vertical pass becomes 16-bit SIMD-friendly like OpenCV's.
fn hpass_linear(src: &[u8], taps: &[Taps<2>], out: &mut [u16]) {
    let (out, _) = out.as_chunks_mut::<CN>();
    if src.len() < 2 * CN {
        // 1-pixel-wide source: both taps read pixel 0.
        let (px, _) = src.as_chunks::<CN>();
        for (o, t) in out.iter_mut().zip(taps) {
            let acc = hsum(px, t);
            *o = acc.map(|v| (v >> 4) as u16);
        }
        return;
    }
    for (o, t) in out.iter_mut().zip(taps) {
        // The taps are adjacent pixels (see `linear`): one 6-byte window.
        let i = t.idx[0] * CN;
        let p = &src[i..i + 2 * CN];
        let (w0, w1) = (t.w[0], t.w[1]);
        for c in 0..CN {
            let v = i32::from(p[c]) * w0 + i32::from(p[c + CN]) * w1;
            o[c] = (v >> 4) as u16;
        }
    }
}

/// [`hpass_linear`] for two source rows sharing the column table (both rows
/// at least 2 pixels wide).
fn hpass_linear2(src: [&[u8]; 2], taps: &[Taps<2>], out: [&mut [u16]; 2]) {
    if src[0].len() < 2 * CN {
        let [o0, o1] = out;
        hpass_linear(src[0], taps, o0);
        hpass_linear(src[1], taps, o1);
        return;
    }
    let [o0, o1] = out;
    let (o0, _) = o0.as_chunks_mut::<CN>();
    let (o1, _) = o1.as_chunks_mut::<CN>();
    for ((a, b), t) in o0.iter_mut().zip(o1.iter_mut()).zip(taps) {
        let i = t.idx[0] * CN;
        let (p, q) = (&src[0][i..i + 2 * CN], &src[1][i..i + 2 * CN]);
        let (w0, w1) = (t.w[0], t.w[1]);
        for c in 0..CN {
            a[c] = ((i32::from(p[c]) * w0 + i32::from(p[c + CN]) * w1) >> 4) as u16;
            b[c] = ((i32::from(q[c]) * w0 + i32::from(q[c + CN]) * w1) >> 4) as u16;
        }
    }
}

/// OpenCV's `VResizeLinear` for 8-bit output: each pre-shifted row value is
/// multiplied by its 11-bit weight keeping only the high 16 bits of the
/// product, so the rounding is not that of a plain `(sum + 2^21) >> 22`.
fn vert_linear(rows: &[&[u16]; 2], b: &[i32; 2], out: &mut [u8]) {
    // Weights are in 0..=2048, so they fit in 16 bits as in OpenCV.
    let (b0, b1) = (b[0] as u16, b[1] as u16);
    // Fixed-size blocks let LLVM vectorise the 16-bit high products.
    const L: usize = 16;
    let (o_blocks, o_rest) = out.as_chunks_mut::<L>();
    let (r0_blocks, r0_rest) = rows[0].as_chunks::<L>();
    let (r1_blocks, r1_rest) = rows[1].as_chunks::<L>();
    for ((o, s0), s1) in o_blocks.iter_mut().zip(r0_blocks).zip(r1_blocks) {
        for j in 0..L {
            o[j] = vert_linear_px(s0[j], s1[j], b0, b1);
        }
    }
    for ((o, &s0), &s1) in o_rest.iter_mut().zip(r0_rest).zip(r1_rest) {
        *o = vert_linear_px(s0, s1, b0, b1);
    }
}

/// One output value of [`vert_linear`].  Every operand is non-negative
/// (pixels and weights are), so the signed 16-bit high product OpenCV uses
/// equals the unsigned one, which LLVM reliably maps onto `pmulhuw`.
#[inline(always)]
fn vert_linear_px(s0: u16, s1: u16, b0: u16, b1: u16) -> u8 {
    let p0 = ((u32::from(s0) * u32::from(b0)) >> 16) as u16;
    let p1 = ((u32::from(s1) * u32::from(b1)) >> 16) as u16;
    ((p0 + p1 + 2) >> 2).min(255) as u8
}

// ---------------------------------------------------------------------------
// LANCZOS4

/// `INTER_LANCZOS4`: 8x8 taps, borders replicated, integer vertical pass.
fn lanczos4(plan: &Plan<'_>, sx: &Scale, sy: &Scale, dst: &mut [u8]) {
    let taps = |s: &Scale, d: usize, len: usize| {
        let (i, f) = s.centre_pos(d);
        let w = lanczos4_weights(f);
        Taps {
            idx: std::array::from_fn(|k| clamp_index(i - 3 + k as i64, len)),
            w: std::array::from_fn(|k| fixed_coef(w[k])),
        }
    };
    let xtaps: Vec<Taps<8>> = (0..plan.dw).map(|dx| taps(sx, dx, plan.sw)).collect();
    let ytaps: Vec<Taps<8>> = (0..plan.dh).map(|dy| taps(sy, dy, plan.sh)).collect();
    separable(plan, &xtaps, &ytaps, dst);
}

/// OpenCV's `interpolateLanczos4`: the 8 weights for fraction `x`, built from
/// one sine/cosine pair with the angle-addition identities and normalised in
/// float.
fn lanczos4_weights(x: f32) -> [f32; 8] {
    const S45: f64 = std::f64::consts::FRAC_1_SQRT_2;
    const CS: [[f64; 2]; 8] = [
        [1.0, 0.0],
        [-S45, -S45],
        [0.0, 1.0],
        [S45, -S45],
        [-1.0, 0.0],
        [S45, S45],
        [0.0, -1.0],
        [-S45, S45],
    ];
    let pi = std::f64::consts::PI;
    let y0 = f64::from(-(x + 3.0)) * pi * 0.25;
    let (s0, c0) = (y0.sin(), y0.cos());
    let mut w = [0f32; 8];
    let mut sum = 0f32;
    for (i, wi) in w.iter_mut().enumerate() {
        let yf = x + 3.0 - i as f32;
        *wi = if yf.abs() >= 1e-6 {
            let y = f64::from(-yf) * pi * 0.25;
            ((CS[i][0] * s0 + CS[i][1] * c0) / (y * y)) as f32
        } else {
            // The sinc singularity: OpenCV puts a huge weight here so that
            // normalisation turns it into (almost exactly) 1.
            1e30
        };
        sum += *wi;
    }
    let inv = 1.0 / sum;
    for wi in &mut w {
        *wi *= inv;
    }
    w
}

/// OpenCV's generic 8-bit vertical pass (`FixedPtCast<int, uchar, 22>`):
/// `(sum + 2^21) >> 22`, saturated.  The sum is formed in 32-bit `int` in
/// OpenCV, so wrapping arithmetic keeps even pathological inputs identical.
fn vert_fixed<const K: usize>(rows: &[&[i32]; K], b: &[i32; K], out: &mut [u8]) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut sum = 0i32;
        for k in 0..K {
            sum = sum.wrapping_add(rows[k][i].wrapping_mul(b[k]));
        }
        *o = (sum.wrapping_add(1 << 21) >> 22).clamp(0, 255) as u8;
    }
}

// ---------------------------------------------------------------------------
// AREA

/// The 2x2 box average `(a + b + c + d + 2) >> 2` (OpenCV's
/// `ResizeAreaFastVec` fast mode).
fn area_fast_2x2(plan: &Plan<'_>, dst: &mut [u8]) {
    let row_len = plan.dw * CN;
    for_each_band(dst, row_len, row_len * plan.dh * 4, |y0, band| {
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let y = (y0 + i) * 2;
            // Each output pixel covers a pair of source pixels (6 bytes) in
            // each of the two rows.
            let (r0, _) = plan.src_row(y).as_chunks::<{ 2 * CN }>();
            let (r1, _) = plan.src_row(y + 1).as_chunks::<{ 2 * CN }>();
            let (out, _) = out.as_chunks_mut::<CN>();
            for ((o, a), b) in out.iter_mut().zip(r0).zip(r1) {
                for c in 0..CN {
                    let sum = u16::from(a[c])
                        + u16::from(a[c + CN])
                        + u16::from(b[c])
                        + u16::from(b[c + CN]);
                    o[c] = ((sum + 2) >> 2) as u8;
                }
            }
        }
    });
}

/// Integer downscale by `ix` x `iy` (not both 2): the box sum times the
/// float `1/area`, rounded half-to-even like `saturate_cast<uchar>(float)`.
fn area_fast_int(plan: &Plan<'_>, ix: usize, iy: usize, dst: &mut [u8]) {
    if ix == 2 && iy == 2 {
        return area_fast_2x2(plan, dst);
    }
    let scale = 1.0f32 / (ix * iy) as f32;
    let row_len = plan.dw * CN;
    let work = plan.sw * plan.sh * CN;
    for_each_band(dst, row_len, work, |y0, band| {
        let mut sums = vec![0u32; row_len];
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            sums.fill(0);
            for y in (y0 + i) * iy..(y0 + i + 1) * iy {
                let src = plan.src_row(y);
                for (px, s) in sums.chunks_exact_mut(CN).enumerate() {
                    let cell = &src[px * ix * CN..(px + 1) * ix * CN];
                    for p in cell.chunks_exact(CN) {
                        for c in 0..CN {
                            s[c] += u32::from(p[c]);
                        }
                    }
                }
            }
            for (o, &s) in out.iter_mut().zip(&sums) {
                *o = (s as f32 * scale).round_ties_even().clamp(0.0, 255.0) as u8;
            }
        }
    });
}

/// One contribution of a source pixel (or row) to an output pixel (or row)
/// in OpenCV's general AREA decimation (`DecimateAlpha`).
#[derive(Clone, Copy)]
struct AreaTap {
    src: usize,
    alpha: f32,
}

/// OpenCV's `computeResizeAreaTab` for one axis, grouped per output index:
/// each output cell `[d*scale, (d+1)*scale)` gets its fully covered source
/// pixels with weight `1/cell` and its partially covered ends with the
/// covered fraction (ignoring slivers under 1e-3).
fn area_tab(src_len: usize, dst_len: usize, scale: f64) -> Vec<Vec<AreaTap>> {
    (0..dst_len)
        .map(|d| {
            let fs1 = d as f64 * scale;
            let fs2 = fs1 + scale;
            let cell = scale.min(src_len as f64 - fs1);
            let s2 = (fs2.floor() as i64).min(src_len as i64 - 1);
            let s1 = (fs1.ceil() as i64).min(s2);
            let mut taps = Vec::new();
            if s1 as f64 - fs1 > 1e-3 {
                taps.push(AreaTap {
                    src: (s1 - 1) as usize,
                    alpha: ((s1 as f64 - fs1) / cell) as f32,
                });
            }
            for s in s1..s2 {
                taps.push(AreaTap {
                    src: s as usize,
                    alpha: (1.0 / cell) as f32,
                });
            }
            if fs2 - s2 as f64 > 1e-3 {
                taps.push(AreaTap {
                    src: s2 as usize,
                    alpha: ((fs2 - s2 as f64).min(1.0).min(cell) / cell) as f32,
                });
            }
            taps
        })
        .collect()
}

/// General (fractional) AREA downscale: OpenCV's `ResizeArea_Invoker` with
/// `float` accumulators.  Each source row is first reduced horizontally into
/// `buf` (contributions added in table order), then rows are accumulated as
/// `sum += beta * buf`; the float operation order is kept identical.
fn area_general(plan: &Plan<'_>, sx: &Scale, sy: &Scale, dst: &mut [u8]) {
    let xtab = area_tab(plan.sw, plan.dw, sx.scale);
    let ytab = area_tab(plan.sh, plan.dh, sy.scale);
    let row_len = plan.dw * CN;
    let work = plan.sw * plan.sh * CN * 2;
    for_each_band(dst, row_len, work, |y0, band| {
        let mut buf = vec![0f32; row_len];
        let mut sum = vec![0f32; row_len];
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            sum.fill(0.0);
            for yt in &ytab[y0 + i] {
                area_hrow(plan.src_row(yt.src), &xtab, &mut buf);
                for (s, &b) in sum.iter_mut().zip(&buf) {
                    *s += yt.alpha * b;
                }
            }
            for (o, &s) in out.iter_mut().zip(&sum) {
                *o = s.round_ties_even().clamp(0.0, 255.0) as u8;
            }
        }
    });
}

/// Horizontal AREA reduction of one source row into `buf`.
fn area_hrow(src: &[u8], xtab: &[Vec<AreaTap>], buf: &mut [f32]) {
    for (b, taps) in buf.chunks_exact_mut(CN).zip(xtab) {
        let mut acc = [0f32; CN];
        for t in taps {
            let px = &src[t.src * CN..t.src * CN + CN];
            for c in 0..CN {
                acc[c] += f32::from(px[c]) * t.alpha;
            }
        }
        b.copy_from_slice(&acc);
    }
}
