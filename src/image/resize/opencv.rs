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
//! * `dsize == ssize` is a plain copy (handled by the caller).
//! * The scale factors are `1.0 / (dst / src)` in double precision, not
//!   `src / dst`; the two differ in the last bit for many sizes.
//! * A LINEAR downscale by exactly 2 in both directions is computed by the
//!   AREA fast path (2x2 box average).
//! * AREA is a true box filter only when both scales are >= 1; otherwise
//!   OpenCV emulates it with the LINEAR machinery and different positions.
//! * INTER_CUBIC is delegated to Intel IPP in the official wheels, so it is
//!   reported as unsupported.

use super::{for_each_band, Interpolation, Plan, ResizeError, CN};
use crate::image::resize::Backend;

/// `INTER_RESIZE_COEF_BITS`: fixed-point precision of the separable weights.
const COEF_SCALE: f32 = 2048.0;

/// Resizes `plan` with OpenCV's algorithm for `interp`.
pub(super) fn resize(plan: &Plan<'_>, interp: Interpolation) -> Result<Vec<u8>, ResizeError> {
    if plan.same_size() {
        return Ok(plan.src.to_vec());
    }
    let sx = Scale::new(plan.sw, plan.dw);
    let sy = Scale::new(plan.sh, plan.dh);
    let area_fast = sx.is_integer() && sy.is_integer();
    match interp {
        Interpolation::Nearest => Ok(nearest(plan, &sx, &sy)),
        // OpenCV swaps in the 2x2 box average here: for an exact halving the
        // bilinear weights are all 1/2, and the box average is both faster
        // and what cv2 actually returns.
        Interpolation::Linear if area_fast && sx.int == 2 && sy.int == 2 => Ok(area_fast_2x2(plan)),
        Interpolation::Linear => Ok(linear(plan, &sx, &sy, false)),
        Interpolation::Area if sx.scale >= 1.0 && sy.scale >= 1.0 => {
            if area_fast {
                Ok(area_fast_int(plan, sx.int, sy.int))
            } else {
                Ok(area_general(plan, &sx, &sy))
            }
        }
        Interpolation::Area => Ok(linear(plan, &sx, &sy, true)),
        Interpolation::Lanczos => Ok(lanczos4(plan, &sx, &sy)),
        Interpolation::Bicubic => Err(interp.unsupported(
            Backend::Cv2,
            " yet: opencv-python computes 8-bit INTER_CUBIC with Intel IPP, whose \
             rounding cannot be reproduced exactly; use LINEAR, or backend pil",
        )),
        Interpolation::Box => {
            Err(interp.unsupported(Backend::Cv2, ": OpenCV has no BOX filter (use AREA)"))
        }
    }
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
fn nearest(plan: &Plan<'_>, sx: &Scale, sy: &Scale) -> Vec<u8> {
    let xofs: Vec<usize> = (0..plan.dw)
        .map(|dx| clamp_index((dx as f64 * sx.scale).floor() as i64, plan.sw) * CN)
        .collect();
    let mut dst = plan.new_dst();
    let row_len = plan.dw * CN;
    for_each_band(&mut dst, row_len, plan.dw * plan.dh, |y0, band| {
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let y = clamp_index(((y0 + i) as f64 * sy.scale).floor() as i64, plan.sh);
            let src = plan.src_row(y);
            for (o, &x) in out.chunks_exact_mut(CN).zip(&xofs) {
                o.copy_from_slice(&src[x..x + CN]);
            }
        }
    });
    dst
}

// ---------------------------------------------------------------------------
// Separable fixed-point machinery shared by LINEAR and LANCZOS4.

/// One output column or row of a `K`-tap separable filter: the (already
/// clamped) source indices and their 11-bit fixed-point weights.  For columns
/// the indices are byte offsets into a row; for rows they are row numbers.
#[derive(Clone, Copy)]
struct Taps<const K: usize> {
    idx: [usize; K],
    w: [i32; K],
}

/// Horizontal pass: one source row to one `int` row of `dw * 3` values.
fn hpass<const K: usize>(src: &[u8], taps: &[Taps<K>], out: &mut [i32]) {
    for (o, t) in out.chunks_exact_mut(CN).zip(taps) {
        let mut acc = [0i32; CN];
        for k in 0..K {
            let px = &src[t.idx[k]..t.idx[k] + CN];
            for c in 0..CN {
                acc[c] += i32::from(px[c]) * t.w[k];
            }
        }
        o.copy_from_slice(&acc);
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

/// Runs a separable resize: horizontal pass with `xtaps` into cached `int`
/// rows, then `vert` combines the `K` rows named by each entry of `ytaps`.
fn separable<const K: usize>(
    plan: &Plan<'_>,
    xtaps: &[Taps<K>],
    ytaps: &[Taps<K>],
    vert: fn(&[&[i32]; K], &[i32; K], &mut [u8]),
) -> Vec<u8> {
    let row_len = plan.dw * CN;
    let mut dst = plan.new_dst();
    let work = row_len * plan.dh * K * 2;
    for_each_band(&mut dst, row_len, work, |y0, band| {
        let mut cache = RowCache::<K>::new(row_len);
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let yt = &ytaps[y0 + i];
            let slots = cache.fetch(&yt.idx, |r, buf| hpass(plan.src_row(r), xtaps, buf));
            let rows: [&[i32]; K] = std::array::from_fn(|k| cache.rows[slots[k]].as_slice());
            vert(&rows, &yt.w, out);
        }
    });
    dst
}

// ---------------------------------------------------------------------------
// LINEAR (and AREA emulated for upscaling)

/// `INTER_LINEAR`, or the bilinear emulation of `INTER_AREA` when
/// `area_mode` is set.
fn linear(plan: &Plan<'_>, sx: &Scale, sy: &Scale, area_mode: bool) -> Vec<u8> {
    let pos = |s: &Scale, d| {
        if area_mode {
            s.area_pos(d)
        } else {
            s.centre_pos(d)
        }
    };
    let xtaps: Vec<Taps<2>> = (0..plan.dw)
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
            let x0 = x as usize;
            let x1 = (x0 + 1).min(plan.sw - 1);
            Taps {
                idx: [x0 * CN, x1 * CN],
                w: [fixed_coef(1.0 - f), fixed_coef(f)],
            }
        })
        .collect();
    let ytaps: Vec<Taps<2>> = (0..plan.dh)
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
    separable(plan, &xtaps, &ytaps, vert_linear)
}

/// OpenCV's `VResizeLinear` for 8-bit output: each row is pre-shifted by 4
/// and multiplied with a 16-bit high-half product, so the rounding is not
/// that of a plain `(sum + 2^21) >> 22`.
fn vert_linear(rows: &[&[i32]; 2], b: &[i32; 2], out: &mut [u8]) {
    let (b0, b1) = (b[0], b[1]);
    for ((o, &s0), &s1) in out.iter_mut().zip(rows[0]).zip(rows[1]) {
        let v = (((b0 * (s0 >> 4)) >> 16) + ((b1 * (s1 >> 4)) >> 16) + 2) >> 2;
        *o = v.clamp(0, 255) as u8;
    }
}

// ---------------------------------------------------------------------------
// LANCZOS4

/// `INTER_LANCZOS4`: 8x8 taps, borders replicated, integer vertical pass.
fn lanczos4(plan: &Plan<'_>, sx: &Scale, sy: &Scale) -> Vec<u8> {
    let taps = |s: &Scale, d: usize, len: usize, stride: usize| {
        let (i, f) = s.centre_pos(d);
        let w = lanczos4_weights(f);
        Taps {
            idx: std::array::from_fn(|k| clamp_index(i - 3 + k as i64, len) * stride),
            w: std::array::from_fn(|k| fixed_coef(w[k])),
        }
    };
    let xtaps: Vec<Taps<8>> = (0..plan.dw).map(|dx| taps(sx, dx, plan.sw, CN)).collect();
    let ytaps: Vec<Taps<8>> = (0..plan.dh).map(|dy| taps(sy, dy, plan.sh, 1)).collect();
    separable(plan, &xtaps, &ytaps, vert_fixed::<8>)
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
fn area_fast_2x2(plan: &Plan<'_>) -> Vec<u8> {
    let row_len = plan.dw * CN;
    let mut dst = plan.new_dst();
    for_each_band(&mut dst, row_len, row_len * plan.dh * 4, |y0, band| {
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let y = (y0 + i) * 2;
            let (r0, r1) = (plan.src_row(y), plan.src_row(y + 1));
            for (x, o) in out.iter_mut().enumerate() {
                // Output element x (pixel x/3, channel x%3) reads source
                // pixels 2*(x/3) and 2*(x/3)+1 of the same channel.
                let s = (x / CN) * 2 * CN + x % CN;
                let sum = u32::from(r0[s])
                    + u32::from(r0[s + CN])
                    + u32::from(r1[s])
                    + u32::from(r1[s + CN]);
                *o = ((sum + 2) >> 2) as u8;
            }
        }
    });
    dst
}

/// Integer downscale by `ix` x `iy` (not both 2): the box sum times the
/// float `1/area`, rounded half-to-even like `saturate_cast<uchar>(float)`.
fn area_fast_int(plan: &Plan<'_>, ix: usize, iy: usize) -> Vec<u8> {
    if ix == 2 && iy == 2 {
        return area_fast_2x2(plan);
    }
    let scale = 1.0f32 / (ix * iy) as f32;
    let row_len = plan.dw * CN;
    let mut dst = plan.new_dst();
    let work = plan.sw * plan.sh * CN;
    for_each_band(&mut dst, row_len, work, |y0, band| {
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
    dst
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
fn area_general(plan: &Plan<'_>, sx: &Scale, sy: &Scale) -> Vec<u8> {
    let xtab = area_tab(plan.sw, plan.dw, sx.scale);
    let ytab = area_tab(plan.sh, plan.dh, sy.scale);
    let row_len = plan.dw * CN;
    let mut dst = plan.new_dst();
    let work = plan.sw * plan.sh * CN * 2;
    for_each_band(&mut dst, row_len, work, |y0, band| {
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
    dst
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
