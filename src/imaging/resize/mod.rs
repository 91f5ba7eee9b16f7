//! Bit-exact image resizing in the style of PaddleX's `Resize` operators.
//!
//! PaddleX resizes with either OpenCV (`cv2.resize`, the default backend) or
//! Pillow (`Image.resize`).  Classification scores can flip between close
//! classes when the resized pixels differ by even one unit, so this module
//! reproduces the integer and floating-point arithmetic of both libraries
//! exactly instead of using a "similar" filter:
//!
//! * `opencv.rs` mirrors OpenCV 4.10's `cv::resize` for 8-bit, 3-channel
//!   images (NEAREST, LINEAR, AREA, LANCZOS4).
//! * `pillow.rs` mirrors Pillow 13's `Image.resize` for RGB images (NEAREST
//!   and the convolution filters BILINEAR, BICUBIC, BOX, LANCZOS).
//!
//! The one mode that cannot be reproduced is OpenCV's `INTER_CUBIC`: the
//! official `opencv-python` wheels hand 8-bit cubic resizes to Intel IPP,
//! whose internal arithmetic is not public, so [`resize`] reports it as
//! unsupported rather than silently returning slightly different pixels.

mod opencv;
mod pillow;

use std::fmt;

use image::RgbImage;
use rayon::prelude::*;

/// Which library's arithmetic to reproduce (PaddleX inference.yml `backend`:
/// `"cv2"` is the default, `"pil"` the alternative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResizeLibrary {
    /// OpenCV's `cv2.resize`.
    Cv2,
    /// Pillow's `Image.resize`.
    Pil,
}

/// The interpolation method (PaddleX inference.yml `interpolation`).
///
/// Not every method exists in both backends; see [`Interpolation::parse`] for
/// the names each backend accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interpolation {
    /// Nearest neighbour (`NEAREST` in both backends).
    Nearest,
    /// Bilinear (`LINEAR` for cv2, `BILINEAR` for pil).
    Linear,
    /// Bicubic (`BICUBIC` in both backends).
    Bicubic,
    /// Pixel-area relation (`AREA`, cv2 only).
    Area,
    /// Box filter (`BOX`, pil only).
    Box,
    /// Lanczos (`LANCZOS4`: OpenCV's 8x8 Lanczos, or Pillow's `LANCZOS`).
    Lanczos,
}

/// Errors reported by [`resize`] and the name parsers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResizeError {
    /// The backend name is not one PaddleX knows.
    #[error("unknown resize backend {name:?}; expected one of: cv2, pil")]
    UnknownLibrary {
        /// The name as given.
        name: String,
    },
    /// The interpolation name is not valid for the chosen backend.
    #[error("unknown interpolation {name:?} for backend {backend}; expected one of: {accepted}")]
    UnknownInterpolation {
        /// The name as given.
        name: String,
        /// The backend the name was checked against.
        backend: ResizeLibrary,
        /// The accepted names, comma separated.
        accepted: &'static str,
    },
    /// A source or target dimension is zero.
    #[error("cannot resize a {src_w}x{src_h} image to {dst_w}x{dst_h}: sizes must be non-zero")]
    EmptySize {
        /// Source width.
        src_w: u32,
        /// Source height.
        src_h: u32,
        /// Requested width.
        dst_w: u32,
        /// Requested height.
        dst_h: u32,
    },
    /// A window that is empty or not inside the output.
    #[error("the window {window:?} is not inside a {dst_w}x{dst_h} output")]
    BadWindow {
        /// The window asked for.
        window: Window,
        /// Output width.
        dst_w: u32,
        /// Output height.
        dst_h: u32,
    },
    /// The requested output would not fit in memory.
    #[error("cannot resize to {dst_w}x{dst_h}: the output image is too large")]
    TooLarge {
        /// Requested width.
        dst_w: u32,
        /// Requested height.
        dst_h: u32,
    },
    /// The combination of backend and interpolation is not implemented.
    #[error("interpolation {interp} with backend {backend} is not supported{reason}")]
    Unsupported {
        /// Upper-case name of the interpolation.
        interp: &'static str,
        /// The backend.
        backend: ResizeLibrary,
        /// Explanation, starting with ": " (may be empty).
        reason: &'static str,
    },
}

impl fmt::Display for ResizeLibrary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResizeLibrary::Cv2 => "cv2",
            ResizeLibrary::Pil => "pil",
        })
    }
}

impl ResizeLibrary {
    /// Parses a PaddleX backend name (`cv2` or `pil`, case-insensitive).
    pub(crate) fn parse(name: &str) -> Result<Self, ResizeError> {
        match name.to_ascii_lowercase().as_str() {
            "cv2" => Ok(ResizeLibrary::Cv2),
            "pil" => Ok(ResizeLibrary::Pil),
            _ => Err(ResizeError::UnknownLibrary {
                name: name.to_string(),
            }),
        }
    }

    /// The interpolation names PaddleX accepts for this backend, with their
    /// meaning; PaddleX upper-cases the configured value before looking it up.
    fn interpolation_names(self) -> &'static [(&'static str, Interpolation)] {
        match self {
            ResizeLibrary::Cv2 => &[
                ("NEAREST", Interpolation::Nearest),
                ("LINEAR", Interpolation::Linear),
                ("BICUBIC", Interpolation::Bicubic),
                ("AREA", Interpolation::Area),
                ("LANCZOS4", Interpolation::Lanczos),
            ],
            ResizeLibrary::Pil => &[
                ("NEAREST", Interpolation::Nearest),
                ("BILINEAR", Interpolation::Linear),
                ("BICUBIC", Interpolation::Bicubic),
                ("BOX", Interpolation::Box),
                ("LANCZOS4", Interpolation::Lanczos),
            ],
        }
    }

    /// Comma-separated list of the accepted interpolation names.
    fn accepted_interpolations(self) -> &'static str {
        match self {
            ResizeLibrary::Cv2 => "NEAREST, LINEAR, BICUBIC, AREA, LANCZOS4",
            ResizeLibrary::Pil => "NEAREST, BILINEAR, BICUBIC, BOX, LANCZOS4",
        }
    }
}

impl Interpolation {
    /// Parses an inference.yml `interpolation` value for `backend`
    /// (case-insensitive, like PaddleX which upper-cases it).
    ///
    /// cv2 accepts NEAREST, LINEAR, BICUBIC, AREA, LANCZOS4; pil accepts
    /// NEAREST, BILINEAR, BICUBIC, BOX, LANCZOS4.
    pub(crate) fn parse(name: &str, backend: ResizeLibrary) -> Result<Self, ResizeError> {
        let upper = name.to_ascii_uppercase();
        backend
            .interpolation_names()
            .iter()
            .find(|(n, _)| *n == upper)
            .map(|&(_, interp)| interp)
            .ok_or_else(|| ResizeError::UnknownInterpolation {
                name: name.to_string(),
                backend,
                accepted: backend.accepted_interpolations(),
            })
    }

    /// The PaddleX name of this method for `backend` (used in messages).
    fn name(self, backend: ResizeLibrary) -> &'static str {
        match (self, backend) {
            (Interpolation::Nearest, _) => "NEAREST",
            (Interpolation::Linear, ResizeLibrary::Cv2) => "LINEAR",
            (Interpolation::Linear, ResizeLibrary::Pil) => "BILINEAR",
            (Interpolation::Bicubic, _) => "BICUBIC",
            (Interpolation::Area, _) => "AREA",
            (Interpolation::Box, _) => "BOX",
            (Interpolation::Lanczos, _) => "LANCZOS4",
        }
    }

    /// The error for a method that `backend` does not implement.
    fn unsupported(self, backend: ResizeLibrary, reason: &'static str) -> ResizeError {
        ResizeError::Unsupported {
            interp: self.name(backend),
            backend,
            reason,
        }
    }
}

/// Resizes an RGB8 image to exactly `dst_w` x `dst_h` the way PaddleX would,
/// i.e. bit-for-bit like `cv2.resize(img, (dst_w, dst_h), interpolation=..)`
/// or `Image.resize((dst_w, dst_h), resample)`.
///
/// Same-size requests return a copy, as both libraries do.  Errors: a zero
/// or absurdly large dimension, a method the backend does not have (cv2 BOX,
/// pil AREA), and cv2 BICUBIC (see the module documentation).
pub fn resize(
    src: &RgbImage,
    dst_w: u32,
    dst_h: u32,
    backend: ResizeLibrary,
    interp: Interpolation,
) -> Result<RgbImage, ResizeError> {
    let plan = Plan::new(src, dst_w, dst_h)?;
    let mut out = RgbImage::new(dst_w, dst_h);
    match backend {
        ResizeLibrary::Cv2 => opencv::resize(&plan, interp, &mut out)?,
        ResizeLibrary::Pil => pillow::resize(&plan, interp, &mut out)?,
    }
    Ok(out)
}

/// A rectangle of a resize's output, in output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Left column.
    pub x: usize,
    /// Top row.
    pub y: usize,
    /// Width.
    pub w: usize,
    /// Height.
    pub h: usize,
}

/// The `window` of [`resize`]'s output, as if the whole image were resized
/// and then cropped (bit-identical), computing only the window where the
/// method allows (OpenCV LINEAR, the usual ImageNet preprocessing); other
/// methods resize everything and crop. Errors as [`resize`], and for a
/// window outside the output.
pub(crate) fn resize_window(
    src: &RgbImage,
    dst_w: u32,
    dst_h: u32,
    window: Window,
    backend: ResizeLibrary,
    interp: Interpolation,
) -> Result<RgbImage, ResizeError> {
    let fits = window.x + window.w <= dst_w as usize && window.y + window.h <= dst_h as usize;
    if !fits || window.w == 0 || window.h == 0 {
        return Err(ResizeError::BadWindow {
            window,
            dst_w,
            dst_h,
        });
    }
    if computes_window_only(backend, interp) {
        let plan = Plan::new(src, dst_w, dst_h)?;
        let mut out = RgbImage::new(window.w as u32, window.h as u32);
        if opencv::linear_window(&plan, window, &mut out) {
            return Ok(out);
        }
    }
    let full = resize(src, dst_w, dst_h, backend, interp)?;
    Ok(image::imageops::crop_imm(
        &full,
        window.x as u32,
        window.y as u32,
        window.w as u32,
        window.h as u32,
    )
    .to_image())
}

/// Number of interleaved channels in an RGB8 buffer.
const CN: usize = 3;

/// A validated resize request on a packed RGB8 buffer (rows of `sw * 3`
/// bytes, no padding).
struct Plan<'a> {
    src: &'a [u8],
    sw: usize,
    sh: usize,
    dw: usize,
    dh: usize,
}

impl<'a> Plan<'a> {
    /// Validates a resize of `src` to `dst_w` x `dst_h`: no zero dimension,
    /// and an output whose byte count fits (the image crate would panic).
    fn new(src: &'a RgbImage, dst_w: u32, dst_h: u32) -> Result<Self, ResizeError> {
        let (src_w, src_h) = src.dimensions();
        if src_w == 0 || src_h == 0 || dst_w == 0 || dst_h == 0 {
            return Err(ResizeError::EmptySize {
                src_w,
                src_h,
                dst_w,
                dst_h,
            });
        }
        let too_large = (dst_w as u64)
            .checked_mul(u64::from(dst_h))
            .and_then(|px| px.checked_mul(CN as u64))
            .is_none_or(|bytes| bytes > isize::MAX as u64);
        if too_large {
            return Err(ResizeError::TooLarge { dst_w, dst_h });
        }
        // An ImageBuffer's container may be longer than its pixels; use
        // exactly the pixel bytes.
        let src_len = src_w as usize * src_h as usize * CN;
        Ok(Plan {
            src: &src.as_raw()[..src_len],
            sw: src_w as usize,
            sh: src_h as usize,
            dw: dst_w as usize,
            dh: dst_h as usize,
        })
    }

    /// Source row `y` as a byte slice.
    fn src_row(&self, y: usize) -> &[u8] {
        &self.src[y * self.sw * CN..(y + 1) * self.sw * CN]
    }

    /// The whole output as a window.
    fn whole(&self) -> Window {
        Window {
            x: 0,
            y: 0,
            w: self.dw,
            h: self.dh,
        }
    }

    /// True when the request is a no-op.
    fn same_size(&self) -> bool {
        self.sw == self.dw && self.sh == self.dh
    }
}

/// Work (roughly, multiply-adds) below which handing rows to other threads
/// costs more than it saves.  On a 2-core machine even a 300x200 -> 384x256
/// LINEAR upscale (about 1M) runs 1.7x faster on two threads.
const PARALLEL_MIN_WORK: usize = 1 << 18;

/// Runs `f(first_row, rows)` over consecutive bands of rows of `buf`
/// (each row `row_len` bytes), in parallel when `work` (a rough count of
/// multiply-adds) is large enough to pay for it.
///
/// Bands are contiguous so each worker walks its source rows in order and its
/// small row caches stay effective.
fn for_each_band<F>(buf: &mut [u8], row_len: usize, work: usize, f: F)
where
    F: Fn(usize, &mut [u8]) + Sync,
{
    let rows = buf.len() / row_len.max(1);
    let threads = rayon::current_num_threads();
    if work < PARALLEL_MIN_WORK || threads < 2 || rows < 2 {
        f(0, buf);
        return;
    }
    // A few bands per thread balance uneven rows without much overlap cost.
    let bands = (threads * 4).min(rows);
    let rows_per_band = rows.div_ceil(bands);
    buf.par_chunks_mut(rows_per_band * row_len)
        .enumerate()
        .for_each(|(i, band)| f(i * rows_per_band, band));
}

/// Whether a resize to a window computes only that window (OpenCV's LINEAR);
/// every other method builds the whole target image first.
pub(crate) fn computes_window_only(backend: ResizeLibrary, interp: Interpolation) -> bool {
    backend == ResizeLibrary::Cv2 && interp == Interpolation::Linear
}

#[cfg(test)]
mod tests;
