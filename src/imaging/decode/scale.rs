//! The reduced JPEG decode of `--fast_decode`: which of libjpeg's DCT
//! scales (1/2, 1/4, 1/8) to decode at, given the smallest image the
//! preprocessing can take without its first resize becoming an enlargement.
//!
//! libjpeg scales while it inverts the DCT, so a 1/8 decode of a 12 MP photo
//! skips most of the IDCT, upsampling and colour-conversion work and writes
//! 1/64 of the pixels. The pixels are not those of a full decode followed by
//! the resize, so results differ slightly from PaddleX's.

/// The smallest decoded image, in displayed orientation, that the
/// preprocessing still downscales (or keeps) rather than enlarges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MinSize {
    /// The short side must be at least this (`resize_short`).
    Short(u32),
    /// The width and height must each be at least these (`ResizeImage` `size`).
    Each(u32, u32),
}

impl MinSize {
    /// The same bound for an image stored transposed (EXIF orientations
    /// 5-8 swap width and height after decoding).
    pub(crate) fn transposed(self) -> Self {
        match self {
            MinSize::Short(s) => MinSize::Short(s),
            MinSize::Each(w, h) => MinSize::Each(h, w),
        }
    }

    /// The bound with every size multiplied by `k`.
    pub(crate) fn times(self, k: u32) -> Self {
        match self {
            MinSize::Short(s) => MinSize::Short(s.saturating_mul(k)),
            MinSize::Each(w, h) => MinSize::Each(w.saturating_mul(k), h.saturating_mul(k)),
        }
    }

    /// Whether a `width` x `height` image meets the bound.
    pub(crate) fn fits(self, width: u32, height: u32) -> bool {
        match self {
            MinSize::Short(s) => width.min(height) >= s,
            MinSize::Each(w, h) => width >= w && height >= h,
        }
    }
}

/// A libjpeg DCT scale `1/denominator` with the denominator 1, 2, 4 or 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scale(u8);

impl Scale {
    /// Full size: what `cv2.imread` decodes.
    pub(crate) const FULL: Scale = Scale(1);

    /// The scales libjpeg offers that `--fast_decode` uses, smallest first.
    const REDUCED: [Scale; 3] = [Scale(8), Scale(4), Scale(2)];

    /// The denominator (`scale_denom`; `scale_num` is 1).
    pub(crate) fn denominator(self) -> u8 {
        self.0
    }

    /// Whether this is a reduced decode.
    pub(crate) fn is_reduced(self) -> bool {
        self.0 > 1
    }

    /// The size libjpeg decodes a `width` x `height` image to at this scale:
    /// each side divided and rounded up (`jdiv_round_up`).
    pub(crate) fn apply(self, width: u32, height: u32) -> (u32, u32) {
        let d = u32::from(self.0);
        (width.div_ceil(d), height.div_ceil(d))
    }
}

/// How much larger than the resize target a reduced decode stays: the
/// resize then still averages about 2×2 decoded pixels per output pixel, as
/// it averages 2×2 or more of the full image, which keeps the results close
/// to the exact path's (measured in `benches/fast-decode.md`).
pub(crate) const MARGIN: u32 = 2;

/// The smallest scale (largest reduction) that leaves a `width` x `height`
/// image, as stored, at least [`MARGIN`] times `need`; full size when none
/// does.
pub(crate) fn choose(width: u32, height: u32, need: MinSize) -> Scale {
    let need = need.times(MARGIN);
    Scale::REDUCED
        .into_iter()
        .find(|scale| {
            let (w, h) = scale.apply(width, height);
            need.fits(w, h)
        })
        .unwrap_or(Scale::FULL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_reduction_that_stays_at_least_the_short_side() {
        // resize_short 256, kept at least MARGIN (2) times: 512.
        let need = MinSize::Short(256);
        // 12 MP: 4000x3000 / 4 = 1000x750, / 8 = 500x375 (too small).
        assert_eq!(choose(4000, 3000, need), Scale(4));
        assert_eq!(choose(3000, 4000, need), Scale(4));
        // 1920x1080 / 2 = 960x540, / 4 = 480x270.
        assert_eq!(choose(1920, 1080, need), Scale(2));
        // 800x1100 (doc_0.jpg) / 2 = 400x550: not reduced.
        assert_eq!(choose(800, 1100, need), Scale::FULL);
        assert_eq!(choose(640, 427, need), Scale::FULL);
        // Exactly the bound is allowed; one pixel less is not. libjpeg
        // rounds up: 2045 / 4 = 511.25 → 512, 2044 / 4 = 511.
        assert_eq!(choose(2048, 2048, need), Scale(4));
        assert_eq!(choose(2045, 3000, need), Scale(4));
        assert_eq!(choose(2044, 3000, need), Scale(2));
    }

    #[test]
    fn exact_size_bounds_each_side() {
        let need = MinSize::Each(224, 224);
        assert_eq!(choose(4000, 3000, need), Scale(4));
        assert_eq!(choose(1800, 900, need), Scale(2));
        // A wide target: the width decides.
        let wide = MinSize::Each(640, 160);
        assert_eq!(choose(4000, 3000, wide), Scale(2));
        assert_eq!(choose(3000, 4000, wide), Scale(2));
        assert_eq!(choose(1000, 4000, wide), Scale::FULL);
        // Transposed for EXIF orientations 5-8.
        assert_eq!(wide.transposed(), MinSize::Each(160, 640));
        assert_eq!(choose(1000, 4000, wide.transposed()), Scale(2));
    }

    #[test]
    fn never_below_the_target() {
        let needs = [
            MinSize::Short(256),
            MinSize::Short(1),
            MinSize::Short(5000),
            MinSize::Each(224, 224),
            MinSize::Each(48, 192),
            MinSize::Each(3000, 1),
        ];
        for need in needs {
            for width in (1..6000).step_by(97) {
                for height in (1..6000).step_by(131) {
                    let scale = choose(width, height, need);
                    let (w, h) = scale.apply(width, height);
                    if need.times(MARGIN).fits(width, height) {
                        assert!(
                            need.times(MARGIN).fits(w, h),
                            "{need:?} {width}x{height} → {w}x{h}"
                        );
                        // And no larger reduction would still fit.
                        let next = Scale(scale.0 * 2);
                        if scale.0 < 8 {
                            let (nw, nh) = next.apply(width, height);
                            assert!(
                                !need.times(MARGIN).fits(nw, nh),
                                "{need:?} {width}x{height}"
                            );
                        }
                    } else {
                        // Already too small: never reduced further.
                        assert_eq!(scale, Scale::FULL, "{need:?} {width}x{height}");
                    }
                }
            }
        }
    }
}
