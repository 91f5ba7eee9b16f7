//! PaddleX's classifier preprocessing, built from `inference.yml`'s
//! `transform_ops`: ResizeImage → CropImage → NormalizeImage → ToCHWImage,
//! always in that order (PaddleX fixes the order in code).
//!
//! Crop, normalisation and the layout change are fused into one pass that
//! writes straight into the batch tensor.

use image::RgbImage;
use serde_yaml::Value;

use super::decode::scale::MinSize;
use super::decode::MAX_PIXELS;
use super::resize::{self, Interpolation, ResizeLibrary, Window};
use crate::model::infer_config::TransformOp;

/// Why preprocessing could not be set up or applied.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// An operator we do not know (PaddleX raises KeyError).
    #[error("unsupported preprocessing operator `{0}` in inference.yml (supported: ResizeImage, CropImage, NormalizeImage, ToCHWImage)")]
    UnknownOp(String),
    /// A bad argument.
    #[error("inference.yml {op}: {message}")]
    BadArg {
        /// The operator.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// The resize failed.
    #[error(transparent)]
    Resize(#[from] resize::ResizeError),
    /// The resize would produce an image over the pixel cap (a very long,
    /// thin image and `resize_short` without a crop): refused before any
    /// pixel is allocated.
    #[error("resizing the {width}x{height} image to {target_w}x{target_h} would exceed the limit of {MAX_PIXELS} pixels")]
    TargetTooLarge {
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
        /// Resize target width (not clamped to `u32`).
        target_w: u64,
        /// Resize target height.
        target_h: u64,
    },
    /// The image is smaller than the crop.
    #[error("Input image ({width}, {height}) smaller than the target size ({crop_w}, {crop_h}).")]
    TooSmall {
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
        /// Crop width.
        crop_w: u32,
        /// Crop height.
        crop_h: u32,
    },
}

/// What ResizeImage aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResizeTarget {
    /// `resize_short`: the short side becomes this, the other scaled to match.
    Short(u32),
    /// `size`: exactly `(w, h)`.
    Exact(u32, u32),
}

/// ResizeImage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResizeOp {
    /// Target size.
    pub target: ResizeTarget,
    /// cv2 or pil arithmetic.
    pub backend: ResizeLibrary,
    /// Filter.
    pub interpolation: Interpolation,
}

/// NormalizeImage as per-channel `x * alpha + beta` in float32.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalizeOp {
    /// `scale / std`, per RGB channel.
    pub alpha: [f32; 3],
    /// `-mean / std`, per RGB channel.
    pub beta: [f32; 3],
}

/// The whole preprocessing of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocessor {
    /// ResizeImage, if present.
    pub resize: Option<ResizeOp>,
    /// CropImage `(w, h)`, if present.
    pub crop: Option<(u32, u32)>,
    /// NormalizeImage, if present (else raw 0..255 values).
    pub normalize: Option<NormalizeOp>,
    /// ToCHWImage present: planar output; else interleaved HWC.
    pub chw: bool,
}

impl Preprocessor {
    /// Builds the preprocessing from `transform_ops`.
    pub fn from_ops(ops: &[TransformOp]) -> Result<Self, PreprocessError> {
        let mut pre = Preprocessor {
            resize: None,
            crop: None,
            normalize: None,
            chw: false,
        };
        for op in ops {
            let args = Args::new(op)?;
            match op.name.as_str() {
                "ResizeImage" => pre.resize = Some(parse_resize(&args)?),
                "CropImage" => pre.crop = Some(parse_crop(&args)?),
                "NormalizeImage" => pre.normalize = Some(parse_normalize(&args)?),
                "ToCHWImage" => {
                    args.only(&[])?;
                    pre.chw = true;
                }
                other => return Err(PreprocessError::UnknownOp(other.to_string())),
            }
        }
        Ok(pre)
    }

    /// The `(w, h)` of every output when it does not depend on the image.
    pub(crate) fn fixed_size(&self) -> Option<(u32, u32)> {
        match (self.crop, self.resize.map(|r| r.target)) {
            (Some(crop), _) => Some(crop),
            (None, Some(ResizeTarget::Exact(w, h))) => Some((w, h)),
            _ => None,
        }
    }

    /// The smallest decoded image that ResizeImage still shrinks (or keeps)
    /// rather than enlarges: the bound for `--fast_decode`'s reduced JPEG
    /// decode. `resize_short: s` needs a short side of at least `s`;
    /// `size: [w, h]` at least `w` x `h`. CropImage does not change it: it
    /// cuts the resized image, so the resize reads the crop's share of a
    /// source that is itself at least the target. `None` without
    /// ResizeImage: the model sees the pixels as decoded, and a reduced
    /// decode would change what the crop covers.
    pub(crate) fn min_decode_size(&self) -> Option<MinSize> {
        match self.resize?.target {
            ResizeTarget::Short(short) => Some(MinSize::Short(short)),
            ResizeTarget::Exact(w, h) => Some(MinSize::Each(w, h)),
        }
    }

    /// The size the resize step produces from a `w` x `h` image (the same
    /// size when there is no resize).
    #[cfg(test)]
    fn resized_size(&self, w: u32, h: u32) -> (u32, u32) {
        let (rw, rh) = self.resized_size_wide(w, h);
        (clamp_u32(rw), clamp_u32(rh))
    }

    /// [`Self::resized_size`] without clamping to `u32`.
    fn resized_size_wide(&self, w: u32, h: u32) -> (u64, u64) {
        match self.resize.map(|op| op.target) {
            Some(ResizeTarget::Short(short)) => short_side_size_wide(w, h, short),
            Some(ResizeTarget::Exact(tw, th)) => (u64::from(tw), u64::from(th)),
            None => (u64::from(w), u64::from(h)),
        }
    }

    /// Whether the resize of a `w` x `h` image computes the whole target
    /// image (every method but OpenCV LINEAR followed by a crop, which
    /// computes only the crop's window).
    fn resizes_whole_target(&self) -> bool {
        match self.resize {
            Some(op) => {
                self.crop.is_none() || !resize::computes_window_only(op.backend, op.interpolation)
            }
            None => false,
        }
    }

    /// The resize target `(w, h)`, refused when the pixels it would
    /// allocate (the whole target, or the crop's window) exceed
    /// [`MAX_PIXELS`]: checked before any allocation.
    fn checked_target(&self, w: u32, h: u32) -> Result<(u32, u32), PreprocessError> {
        let (rw, rh) = self.resized_size_wide(w, h);
        let too_large = PreprocessError::TargetTooLarge {
            width: w,
            height: h,
            target_w: rw,
            target_h: rh,
        };
        let (Ok(tw), Ok(th)) = (u32::try_from(rw), u32::try_from(rh)) else {
            return Err(too_large);
        };
        if self.resizes_whole_target() && rw.saturating_mul(rh) > MAX_PIXELS {
            return Err(too_large);
        }
        Ok((tw, th))
    }

    /// Runs the whole preprocessing; returns the output `(w, h)` and the
    /// tensor data (3·w·h floats, CHW or HWC).
    pub fn run(&self, img: &RgbImage) -> Result<((u32, u32), Vec<f32>), PreprocessError> {
        let (w, h) = img.dimensions();
        let (rw, rh) = self.checked_target(w, h)?;
        let (x0, y0, cw, ch) = self.crop_window(rw, rh)?;
        let cropped;
        let (src, window) = match self.resize {
            Some(op) if (rw, rh) != (w, h) => {
                // Only the pixels that survive the crop are resized.
                let window = Window {
                    x: x0 as usize,
                    y: y0 as usize,
                    w: cw as usize,
                    h: ch as usize,
                };
                cropped = resize::resize_window(img, rw, rh, window, op.backend, op.interpolation)?;
                (&cropped, (0, 0, cw, ch))
            }
            _ => (img, (x0, y0, cw, ch)),
        };
        let mut out = vec![0f32; 3 * cw as usize * ch as usize];
        self.write_tensor(src, window, &mut out);
        Ok(((cw, ch), out))
    }

    /// Centre-crop window `(x0, y0, w, h)` of a `w` x `h` image (the whole
    /// image without CropImage).
    fn crop_window(&self, w: u32, h: u32) -> Result<(u32, u32, u32, u32), PreprocessError> {
        let Some((cw, ch)) = self.crop else {
            return Ok((0, 0, w, h));
        };
        if w < cw || h < ch {
            return Err(PreprocessError::TooSmall {
                width: w,
                height: h,
                crop_w: cw,
                crop_h: ch,
            });
        }
        Ok(((w - cw) / 2, (h - ch) / 2, cw, ch))
    }

    /// Writes the window of `src`, normalised, into `out` in the configured layout.
    fn write_tensor(&self, src: &RgbImage, (x0, y0, w, h): (u32, u32, u32, u32), out: &mut [f32]) {
        let norm = self.normalize.unwrap_or(NormalizeOp {
            alpha: [1.0; 3],
            beta: [0.0; 3],
        });
        let (w, h) = (w as usize, h as usize);
        let stride = src.width() as usize * 3;
        let raw = src.as_raw();
        let plane = w * h;
        for y in 0..h {
            let row_start = (y0 as usize + y) * stride + x0 as usize * 3;
            let row = &raw[row_start..row_start + w * 3];
            if self.chw {
                for c in 0..3 {
                    let dst = &mut out[c * plane + y * w..c * plane + (y + 1) * w];
                    let (a, b) = (norm.alpha[c], norm.beta[c]);
                    for (d, px) in dst.iter_mut().zip(row.chunks_exact(3)) {
                        // Two float32 roundings (multiply, then add) like numpy's `*=` then `+=`.
                        *d = f32::from(px[c]) * a + b;
                    }
                }
            } else {
                let dst = &mut out[y * w * 3..(y + 1) * w * 3];
                for (i, (d, v)) in dst.iter_mut().zip(row).enumerate() {
                    *d = f32::from(*v) * norm.alpha[i % 3] + norm.beta[i % 3];
                }
            }
        }
    }
}

/// PaddleX's ResizeByShort size: `round(side * short / min(w, h))`, Python's
/// round (half to even) on doubles.
/// Sides beyond `u32` are clamped to `u32::MAX` (such a target is refused
/// by [`Preprocessor::run`] anyway).
pub fn short_side_size(w: u32, h: u32, short: u32) -> (u32, u32) {
    let (rw, rh) = short_side_size_wide(w, h, short);
    (clamp_u32(rw), clamp_u32(rh))
}

/// [`short_side_size`] in `u64`, so that a target beyond `u32` is seen as
/// such instead of saturating.
fn short_side_size_wide(w: u32, h: u32, short: u32) -> (u64, u64) {
    let scale = f64::from(short) / f64::from(w.min(h).max(1));
    // `as` saturates: a float beyond u64 (impossible from u32 sides) would clamp.
    let side = |s: u32| ((f64::from(s) * scale).round_ties_even() as u64).max(1);
    (side(w), side(h))
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The argument map of one operator, with PaddleX's checks.
struct Args<'a> {
    op: &'a str,
    map: Option<&'a serde_yaml::Mapping>,
}

impl<'a> Args<'a> {
    fn new(op: &'a TransformOp) -> Result<Self, PreprocessError> {
        let map = match &op.args {
            Value::Null => None,
            Value::Mapping(m) => Some(m),
            _ => return Err(bad(&op.name, "arguments must be a map or null")),
        };
        Ok(Args { op: &op.name, map })
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    /// Refuses argument names outside `known` (PaddleX raises TypeError).
    fn only(&self, known: &[&str]) -> Result<(), PreprocessError> {
        for key in self.map.into_iter().flat_map(|m| m.keys()) {
            let name = key.as_str().unwrap_or("?");
            if !known.contains(&name) {
                return Err(bad(self.op, &format!("unexpected argument `{name}`")));
            }
        }
        Ok(())
    }
}

fn bad(op: &str, message: &str) -> PreprocessError {
    PreprocessError::BadArg {
        op: op.into(),
        message: message.into(),
    }
}

fn parse_resize(args: &Args) -> Result<ResizeOp, PreprocessError> {
    args.only(&["resize_short", "size", "backend", "interpolation"])?;
    let backend = match args.get("backend").and_then(Value::as_str) {
        Some(name) => ResizeLibrary::parse(name)?,
        None => ResizeLibrary::Cv2,
    };
    let interpolation = match args.get("interpolation").and_then(Value::as_str) {
        Some(name) => Interpolation::parse(name, backend)?,
        None if backend == ResizeLibrary::Pil => Interpolation::parse("BILINEAR", backend)?,
        None => Interpolation::parse("LINEAR", backend)?,
    };
    let target = match (args.get("resize_short"), args.get("size")) {
        (Some(short), _) if positive(short).is_some() => {
            ResizeTarget::Short(positive(short).unwrap_or(1))
        }
        (_, Some(size)) => {
            let (w, h) = size_pair(args.op, size)?;
            ResizeTarget::Exact(w, h)
        }
        _ => return Err(bad(args.op, "needs a positive `resize_short` or `size`")),
    };
    Ok(ResizeOp {
        target,
        backend,
        interpolation,
    })
}

fn parse_crop(args: &Args) -> Result<(u32, u32), PreprocessError> {
    args.only(&["size"])?;
    match args.get("size") {
        Some(size) => size_pair(args.op, size),
        None => Ok((224, 224)),
    }
}

fn parse_normalize(args: &Args) -> Result<NormalizeOp, PreprocessError> {
    args.only(&["mean", "std", "scale", "order", "channel_num"])?;
    let mean = triple(args, "mean", [0.485, 0.456, 0.406])?;
    let std = triple(args, "std", [0.229, 0.224, 0.225])?;
    let scale = match args.get("scale") {
        None => 1.0 / 255.0,
        Some(v) => number(v).ok_or_else(|| bad(args.op, "`scale` must be a number"))?,
    };
    if let Some(order) = args.get("order").and_then(Value::as_str) {
        if !order.is_empty() {
            return Err(bad(
                args.op,
                "only order '' (HWC input) is supported, as in PaddleX",
            ));
        }
    }
    if let Some(n) = args.get("channel_num").and_then(Value::as_i64) {
        if n != 3 {
            return Err(bad(args.op, "channel_num must be 3"));
        }
    }
    if std.contains(&0.0) {
        return Err(bad(args.op, "`std` must not contain 0"));
    }
    // alpha and beta are computed in double and rounded once to float32.
    Ok(NormalizeOp {
        alpha: [0, 1, 2].map(|c| (scale / std[c]) as f32),
        beta: [0, 1, 2].map(|c| (-mean[c] / std[c]) as f32),
    })
}

fn triple(args: &Args, key: &str, default: [f64; 3]) -> Result<[f64; 3], PreprocessError> {
    let Some(value) = args.get(key) else {
        return Ok(default);
    };
    let list: Vec<f64> = value
        .as_sequence()
        .map(|s| s.iter().filter_map(number).collect())
        .unwrap_or_default();
    <[f64; 3]>::try_from(list)
        .map_err(|_| bad(args.op, &format!("`{key}` must be a list of 3 numbers")))
}

/// A number, also written as a fraction string such as `1./255.` (PaddleClas configs do that).
fn number(value: &Value) -> Option<f64> {
    if let Some(f) = value.as_f64() {
        return Some(f);
    }
    let text = value.as_str()?.trim();
    match text.split_once('/') {
        Some((a, b)) => Some(a.trim().parse::<f64>().ok()? / b.trim().parse::<f64>().ok()?),
        None => text.parse().ok(),
    }
}

fn positive(value: &Value) -> Option<u32> {
    value
        .as_u64()
        .filter(|&n| n > 0 && n <= u64::from(u32::MAX))
        .map(|n| n as u32)
}

/// An int `s` (→ `(s, s)`) or a `[w, h]` list.
fn size_pair(op: &str, value: &Value) -> Result<(u32, u32), PreprocessError> {
    if let Some(s) = positive(value) {
        return Ok((s, s));
    }
    let list: Vec<u32> = value
        .as_sequence()
        .map(|s| s.iter().filter_map(positive).collect())
        .unwrap_or_default();
    match list.as_slice() {
        [w, h] => Ok((*w, *h)),
        _ => Err(bad(op, "`size` must be a positive int or [w, h]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::InferenceConfig;

    fn ops(yaml: &str) -> Vec<TransformOp> {
        InferenceConfig::parse(&format!("PreProcess:\n  transform_ops:\n{yaml}"), "t")
            .unwrap()
            .transform_ops
    }

    const IMAGENET: &str = "  - ResizeImage:\n      resize_short: 256\n  - CropImage:\n      size: 224\n  - NormalizeImage:\n      channel_num: 3\n      mean: [0.485, 0.456, 0.406]\n      order: ''\n      scale: 0.00392156862745098\n      std: [0.229, 0.224, 0.225]\n  - ToCHWImage: null\n";

    #[test]
    fn short_side_rounds_half_to_even() {
        assert_eq!(short_side_size(640, 480, 256), (341, 256));
        assert_eq!(short_side_size(300, 500, 256), (256, 427));
        assert_eq!(short_side_size(257, 256, 256), (257, 256));
        // 5 * 2.5 = 12.5 rounds to 12 (even), 2 * 2.5 = 5.
        assert_eq!(short_side_size(5, 2, 5), (12, 5));
    }

    #[test]
    fn builds_the_imagenet_pipeline() {
        let pre = Preprocessor::from_ops(&ops(IMAGENET)).unwrap();
        assert_eq!(pre.crop, Some((224, 224)));
        assert!(pre.chw);
        assert_eq!(pre.fixed_size(), Some((224, 224)));
        let n = pre.normalize.unwrap();
        assert_eq!(n.alpha[0], (0.00392156862745098f64 / 0.229) as f32);
        assert_eq!(n.beta[2], (-0.406f64 / 0.225) as f32);
    }

    #[test]
    fn crop_normalize_chw_on_a_small_image() {
        let yaml = "  - CropImage:\n      size: [2, 1]\n  - NormalizeImage:\n      mean: [0, 0, 0]\n      std: [1, 1, 1]\n      scale: 1\n  - ToCHWImage:\n";
        let pre = Preprocessor::from_ops(&ops(yaml)).unwrap();
        let img = RgbImage::from_fn(4, 3, |x, y| image::Rgb([(10 * x + y) as u8, 100, 200]));
        let ((w, h), data) = pre.run(&img).unwrap();
        assert_eq!((w, h), (2, 1));
        // window x 1..3, y 1: R = 11, 21
        assert_eq!(data, vec![11., 21., 100., 100., 200., 200.]);
    }

    #[test]
    fn hwc_without_to_chw() {
        let pre = Preprocessor::from_ops(&ops("  - CropImage:\n      size: 1\n")).unwrap();
        let img = RgbImage::from_pixel(3, 3, image::Rgb([1, 2, 3]));
        assert_eq!(pre.run(&img).unwrap().1, vec![1., 2., 3.]);
    }

    #[test]
    fn refuses_what_paddlex_refuses() {
        let err = Preprocessor::from_ops(&ops("  - Blur:\n      k: 3\n")).unwrap_err();
        assert!(err
            .to_string()
            .contains("unsupported preprocessing operator `Blur`"));
        let err = Preprocessor::from_ops(&ops("  - CropImage:\n      sz: 3\n")).unwrap_err();
        assert!(err.to_string().contains("unexpected argument `sz`"));
        let err =
            Preprocessor::from_ops(&ops("  - ResizeImage:\n      backend: cv2\n")).unwrap_err();
        assert!(err.to_string().contains("resize_short"));
        let err =
            Preprocessor::from_ops(&ops("  - NormalizeImage:\n      order: chw\n")).unwrap_err();
        assert!(err.to_string().contains("order"));
    }

    #[test]
    fn crop_larger_than_image_is_an_error() {
        let pre = Preprocessor::from_ops(&ops("  - CropImage:\n      size: 8\n")).unwrap();
        let err = pre.run(&RgbImage::new(4, 9)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Input image (4, 9) smaller than the target size (8, 8)."
        );
    }

    #[test]
    fn the_decode_bound_is_the_resize_target() {
        let pre = Preprocessor::from_ops(&ops(IMAGENET)).unwrap();
        assert_eq!(pre.min_decode_size(), Some(MinSize::Short(256)));
        let exact = "  - ResizeImage:\n      size: [160, 80]\n  - CropImage:\n      size: 64\n";
        let pre = Preprocessor::from_ops(&ops(exact)).unwrap();
        assert_eq!(pre.min_decode_size(), Some(MinSize::Each(160, 80)));
        let crop_only = Preprocessor::from_ops(&ops("  - CropImage:\n      size: 8\n")).unwrap();
        assert_eq!(crop_only.min_decode_size(), None);
        // At the bound the resize is a downscale or none: never an enlargement.
        for (w, h) in [(256, 256), (256, 900), (1000, 257)] {
            let pre = Preprocessor::from_ops(&ops(IMAGENET)).unwrap();
            assert!(MinSize::Short(256).fits(w, h));
            let (rw, rh) = pre.resized_size(w, h);
            assert!(rw <= w && rh <= h, "{w}x{h} → {rw}x{rh}");
        }
    }

    #[test]
    fn a_resize_target_over_the_pixel_cap_is_refused_before_allocating() {
        // resize_short without a crop: 1 x 2,800,000 becomes 8 x 22,400,000,
        // just over the cap (without the check: 0.5 GB of pixels and 2 GB of tensor).
        let no_crop = "  - ResizeImage:\n      resize_short: 8\n  - ToCHWImage:\n";
        let pre = Preprocessor::from_ops(&ops(no_crop)).unwrap();
        let err = pre.run(&RgbImage::new(1, 2_800_000)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("resizing the 1x2800000 image to 8x22400000 would exceed the limit of {MAX_PIXELS} pixels")
        );
        // Just under the cap it is resized.
        let ((w, h), _) = pre.run(&RgbImage::new(1, 2_000)).unwrap();
        assert_eq!((w, h), (8, 16_000));
        // Beyond u32: the side is not saturated but reported as it is.
        let huge = "  - ResizeImage:\n      resize_short: 4000000000\n";
        let pre = Preprocessor::from_ops(&ops(huge)).unwrap();
        assert!(matches!(
            pre.run(&RgbImage::new(1, 2)),
            Err(PreprocessError::TargetTooLarge {
                target_w: 4_000_000_000,
                target_h: 8_000_000_000,
                ..
            })
        ));
        // Other interpolations resize the whole target, crop or not.
        let nearest = "  - ResizeImage:\n      resize_short: 8\n      interpolation: NEAREST\n  - CropImage:\n      size: 8\n";
        let pre = Preprocessor::from_ops(&ops(nearest)).unwrap();
        assert!(matches!(
            pre.run(&RgbImage::new(1, 2_800_000)),
            Err(PreprocessError::TargetTooLarge { .. })
        ));
        // cv2 LINEAR with a crop computes only the window: still accepted.
        let pre = Preprocessor::from_ops(&ops(IMAGENET)).unwrap();
        let ((w, h), _) = pre.run(&RgbImage::new(2, 40_000)).unwrap();
        assert_eq!((w, h), (224, 224));
    }

    #[test]
    fn fraction_strings_for_scale() {
        let pre = Preprocessor::from_ops(&ops(
            "  - NormalizeImage:\n      scale: 1./255.\n      mean: [0,0,0]\n      std: [1,1,1]\n",
        ))
        .unwrap();
        assert_eq!(pre.normalize.unwrap().alpha[0], (1.0f64 / 255.0) as f32);
    }
}
