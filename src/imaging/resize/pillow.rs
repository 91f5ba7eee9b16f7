//! Reproduction of Pillow's `Image.resize` on RGB images (Pillow 13).
//!
//! Pillow resamples with a separable convolution (`libImaging/Resample.c`):
//! for every output column it evaluates the filter in double precision over
//! the source pixels under the (scaled) filter support, normalises the
//! weights to sum to 1, and converts them to 22-bit fixed point.  Each pass
//! stores 8-bit pixels, so the result depends on the pass order:
//! * a pass whose size does not change is skipped entirely (running it would
//!   not be a no-op for filters wider than one pixel);
//! * the horizontal pass runs first, except that since Pillow 13 the
//!   vertical pass runs first when the height shrinks by more than twice as
//!   many pixels as the width (see [`vertical_first`]).  Older Pillow
//!   versions always run the horizontal pass first, so for those sizes their
//!   output can differ by a unit from Pillow 13's.
//!
//! NEAREST does not use the convolution at all but Pillow's affine "scale"
//! transform, whose source coordinate is accumulated step by step in double
//! precision (so the rounding drift of the running sum is part of the
//! result and is reproduced here).

use super::{for_each_band, Interpolation, Plan, ResizeError, ResizeLibrary, CN};

/// Fixed-point precision of the weights (`PRECISION_BITS` = 32 - 8 - 2).
const PRECISION_BITS: u32 = 22;
/// Rounding offset added to every accumulator.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// Resizes `plan` with Pillow's algorithm for `interp`.
pub(super) fn resize(
    plan: &Plan<'_>,
    interp: Interpolation,
    dst: &mut [u8],
) -> Result<(), ResizeError> {
    if plan.same_size() {
        dst.copy_from_slice(plan.src);
        return Ok(());
    }
    let filter = match interp {
        Interpolation::Nearest => {
            nearest(plan, dst);
            return Ok(());
        }
        Interpolation::Linear => Filter::Bilinear,
        Interpolation::Bicubic => Filter::Bicubic,
        Interpolation::Box => Filter::Box,
        Interpolation::Lanczos => Filter::Lanczos,
        Interpolation::Area => {
            return Err(
                interp.unsupported(ResizeLibrary::Pil, ": Pillow has no AREA filter (use BOX)")
            )
        }
    };
    convolve(plan, filter, dst);
    Ok(())
}

// ---------------------------------------------------------------------------
// NEAREST

/// Pillow's `COORD`: truncation toward zero, with every negative value
/// (even -0.5) mapped to -1 so that it is rejected.
fn coord(v: f64) -> i64 {
    if v < 0.0 {
        -1
    } else {
        v as i64
    }
}

/// Source indices of a nearest-neighbour scale along one axis, or `None`
/// where the sample falls outside the image (Pillow fills those with 0).
///
/// Pillow starts at half a step and adds the step repeatedly rather than
/// multiplying, so the accumulated rounding is reproduced by doing the same.
fn nearest_axis(src_len: usize, dst_len: usize) -> Vec<Option<usize>> {
    // (double)(box[2] - box[0]) / size, where the box is a float rectangle.
    let step = f64::from(src_len as f32) / dst_len as f64;
    let mut pos = step * 0.5;
    (0..dst_len)
        .map(|_| {
            let i = coord(pos);
            pos += step;
            (0..src_len as i64).contains(&i).then_some(i as usize)
        })
        .collect()
}

/// `Image.resize(size, NEAREST)`.
fn nearest(plan: &Plan<'_>, dst: &mut [u8]) {
    let xs = nearest_axis(plan.sw, plan.dw);
    let ys = nearest_axis(plan.sh, plan.dh);
    let row_len = plan.dw * CN;
    for_each_band(dst, row_len, plan.dw * plan.dh, |y0, band| {
        for (i, out) in band.chunks_exact_mut(row_len).enumerate() {
            let Some(y) = ys[y0 + i] else { continue };
            let src = plan.src_row(y);
            for (o, x) in out.chunks_exact_mut(CN).zip(&xs) {
                if let Some(x) = x {
                    o.copy_from_slice(&src[x * CN..x * CN + CN]);
                }
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Convolution filters

/// Pillow's resampling filters (HAMMING is not reachable from PaddleX).
#[derive(Clone, Copy, Debug)]
enum Filter {
    Box,
    Bilinear,
    Bicubic,
    Lanczos,
}

impl Filter {
    /// Half-width of the filter at scale 1.
    fn support(self) -> f64 {
        match self {
            Filter::Box => 0.5,
            Filter::Bilinear => 1.0,
            Filter::Bicubic => 2.0,
            Filter::Lanczos => 3.0,
        }
    }

    /// The filter kernel, with Pillow's exact expressions (operation order
    /// matters for the double results).
    fn eval(self, x: f64) -> f64 {
        match self {
            Filter::Box => {
                if x > -0.5 && x <= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Filter::Bilinear => {
                let x = x.abs();
                if x < 1.0 {
                    1.0 - x
                } else {
                    0.0
                }
            }
            Filter::Bicubic => {
                // Keys cubic with a = -0.5 (Pillow's choice; OpenCV uses -0.75).
                const A: f64 = -0.5;
                let x = x.abs();
                if x < 1.0 {
                    ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
                } else if x < 2.0 {
                    (((x - 5.0) * x + 8.0) * x - 4.0) * A
                } else {
                    0.0
                }
            }
            Filter::Lanczos => {
                if (-3.0..3.0).contains(&x) {
                    sinc(x) * sinc(x / 3.0)
                } else {
                    0.0
                }
            }
        }
    }
}

/// `sin(pi x) / (pi x)`, computed like Pillow's `sinc_filter`.
fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let x = x * std::f64::consts::PI;
        x.sin() / x
    }
}

/// Fixed-point weights of one axis: for output index `i`, the taps start at
/// source index `bounds[i].0`, there are `bounds[i].1` of them, and their
/// weights are `k[i * ksize..][..bounds[i].1]`.
struct Coeffs {
    ksize: usize,
    bounds: Vec<(usize, usize)>,
    k: Vec<i32>,
}

impl Coeffs {
    /// Pillow's `precompute_coeffs` followed by `normalize_coeffs_8bpc`, for
    /// the full-image box `[0, in_size)`.
    fn new(in_size: usize, out_size: usize, filter: Filter) -> Self {
        // The box edges are floats in Pillow; the width is exact for any
        // realistic image size but is converted the same way regardless.
        let scale = f64::from(in_size as f32) / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = filter.support() * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let ss = 1.0 / filterscale;
        let mut bounds = Vec::with_capacity(out_size);
        let mut k = vec![0i32; out_size * ksize];
        let mut w = vec![0f64; ksize];
        for (xx, kk) in k.chunks_exact_mut(ksize).enumerate() {
            let center = (xx as f64 + 0.5) * scale;
            // `(int)` casts: truncation toward zero, then clamping.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64);
            let n = (xmax - xmin).max(0) as usize;
            let mut ww = 0.0;
            for (x, wx) in w[..n].iter_mut().enumerate() {
                *wx = filter.eval(((x as i64 + xmin) as f64 - center + 0.5) * ss);
                ww += *wx;
            }
            for (kx, &wx) in kk.iter_mut().zip(&w[..n]) {
                let wx = if ww != 0.0 { wx / ww } else { wx };
                *kx = to_fixed(wx);
            }
            bounds.push((xmin as usize, n));
        }
        Coeffs { ksize, bounds, k }
    }

    /// The source range and weights of output index `i`.
    fn taps(&self, i: usize) -> (usize, &[i32]) {
        let (start, n) = self.bounds[i];
        (start, &self.k[i * self.ksize..i * self.ksize + n])
    }

    /// First source index used by any output, and one past the last.
    fn span(&self) -> (usize, usize) {
        let first = self.bounds.first().map_or(0, |b| b.0);
        let last = self.bounds.last().map_or(0, |b| b.0 + b.1);
        (first, last)
    }
}

/// Double weight to 22-bit fixed point, rounding half away from zero with a
/// truncating cast, as Pillow does.
fn to_fixed(w: f64) -> i32 {
    let scaled = w * f64::from(1u32 << PRECISION_BITS);
    if w < 0.0 {
        (scaled - 0.5) as i32
    } else {
        (scaled + 0.5) as i32
    }
}

/// Pillow's `clip8`: drop the fraction bits and saturate to 0..=255.
fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The two-pass convolution resize into `dst`, skipping a pass whose size
/// is unchanged.
fn convolve(plan: &Plan<'_>, filter: Filter, dst: &mut [u8]) {
    let need_h = plan.dw != plan.sw;
    let need_v = plan.dh != plan.sh;
    let vert = Coeffs::new(plan.sh, plan.dh, filter);
    if !need_h {
        vertical_pass(plan.src, plan.sw, 0, &vert, dst);
        return;
    }
    let horiz = Coeffs::new(plan.sw, plan.dw, filter);
    if !need_v {
        horizontal_pass(plan.src, plan.sw, 0, &horiz, dst);
        return;
    }
    if vertical_first(plan) {
        let mut tmp = vec![0u8; plan.sw * plan.dh * CN];
        vertical_pass(plan.src, plan.sw, 0, &vert, &mut tmp);
        horizontal_pass(&tmp, plan.sw, 0, &horiz, dst);
        return;
    }
    // Only the source rows the vertical pass will read are resampled.
    let (first, last) = vert.span();
    let mut tmp = vec![0u8; (last - first) * plan.dw * CN];
    horizontal_pass(plan.src, plan.sw, first, &horiz, &mut tmp);
    vertical_pass(&tmp, plan.dw, first, &vert, dst);
}

/// Pass order of Pillow >= 13 (python-pillow/Pillow#9549): the vertical
/// pass runs first when the height loses more than twice as many pixels as
/// the width does.  The order changes the 8-bit intermediate image and hence
/// the rounding of the result, so it has to be mirrored exactly; note that
/// the rule compares pixel differences, not scale ratios.
fn vertical_first(plan: &Plan<'_>) -> bool {
    let (sw, sh) = (plan.sw as i64, plan.sh as i64);
    let (dw, dh) = (plan.dw as i64, plan.dh as i64);
    sh - dh > 0 && sh - dh > (sw - dw) * 2
}

/// Resamples `img` (rows of `in_w` pixels) horizontally into `out`, whose
/// rows are those of `img` starting at row `first`.
fn horizontal_pass(img: &[u8], in_w: usize, first: usize, c: &Coeffs, out: &mut [u8]) {
    let in_len = in_w * CN;
    let out_len = c.bounds.len() * CN;
    let work = out.len() * c.ksize;
    for_each_band(out, out_len, work, |y0, band| {
        for (i, row) in band.chunks_exact_mut(out_len).enumerate() {
            let y = first + y0 + i;
            horizontal_row(&img[y * in_len..(y + 1) * in_len], c, row);
        }
    });
}

/// One row of the horizontal pass.
fn horizontal_row(src: &[u8], c: &Coeffs, out: &mut [u8]) {
    for (xx, o) in out.chunks_exact_mut(CN).enumerate() {
        let (start, k) = c.taps(xx);
        let px = &src[start * CN..(start + k.len()) * CN];
        let mut ss = [HALF; CN];
        for (p, &w) in px.chunks_exact(CN).zip(k) {
            for ch in 0..CN {
                ss[ch] += i32::from(p[ch]) * w;
            }
        }
        for ch in 0..CN {
            o[ch] = clip8(ss[ch]);
        }
    }
}

/// Resamples `img` (rows of `width` pixels, whose first row is source row
/// `first`) vertically into `out`.
fn vertical_pass(img: &[u8], width: usize, first: usize, c: &Coeffs, out: &mut [u8]) {
    let row_len = width * CN;
    let work = out.len() * c.ksize;
    for_each_band(out, row_len, work, |y0, band| {
        let mut acc = vec![0i32; row_len];
        for (i, dst_row) in band.chunks_exact_mut(row_len).enumerate() {
            let (start, k) = c.taps(y0 + i);
            acc.fill(HALF);
            for (j, &w) in k.iter().enumerate() {
                let r = start + j - first;
                let row = &img[r * row_len..(r + 1) * row_len];
                // Row-at-a-time accumulation keeps this loop vectorisable.
                for (a, &p) in acc.iter_mut().zip(row) {
                    *a += i32::from(p) * w;
                }
            }
            for (o, &a) in dst_row.iter_mut().zip(&acc) {
                *o = clip8(a);
            }
        }
    });
}
