//! PaddleX's classification visualisation: the top-1 label and score on a red
//! box in the top-left corner of the original image.
//!
//! Geometry (SPEC 5.4): text `"{label} {score:.2f}"`; font size from 5 % of
//! the width down to 2 %, the first whose text fits the width; box from
//! (3, 3) to (3 + tw + 3, 3 + th + 6) in red; text in white at (6, 3).

pub(crate) mod font;
pub(crate) mod visual;

use ab_glyph::{Font, PxScale, ScaleFont};
use image::{Rgb, RgbImage};

use self::font::FontSet;
pub use self::visual::Visual;

const BOX_COLOR: Rgb<u8> = Rgb([255, 0, 0]);
const TEXT_COLOR: [u8; 3] = [255, 255, 255];

/// The text drawn for a result: top-1 label and its score to 2 decimals.
pub fn label_text(label: &str, score: f32) -> String {
    format!("{label} {:.2}", f64::from(score))
}

/// Text extents measured like Pillow's `textbbox((0, 0), text)` with the
/// default left/ascender anchor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextBox {
    /// Right edge (left is 0).
    pub width: u32,
    /// Top of the ink below the ascender line.
    pub top: i32,
    /// Bottom of the ink below the ascender line.
    pub bottom: i32,
    /// Ascender in pixels (baseline offset from the anchor).
    pub ascent: f32,
}

impl TextBox {
    /// `bottom - top`.
    pub(crate) fn height(&self) -> u32 {
        (self.bottom - self.top).max(0) as u32
    }
}

/// Draws the label on a copy of `img`.
pub fn draw_label(img: &RgbImage, text: &str) -> RgbImage {
    let mut out = img.clone();
    draw_label_in_place(&mut out, text);
    out
}

/// Draws the label onto `img` itself.
pub fn draw_label_in_place(out: &mut RgbImage, text: &str) {
    let fonts = font::fonts();
    let size = pick_font_size(fonts, text, out.width());
    let tb = measure(fonts, text, size);
    let (x1, y1) = (3 + tb.width as i64 + 3, 3 + tb.height() as i64 + 6);
    fill_rect(out, 3, 3, x1, y1);
    draw_text(out, fonts, text, size, 6.0, 3.0);
}

/// PaddleX's font size: from `int(0.05 W)` down to `int(0.02 W)`, the first
/// whose text width fits `W`; else `int(0.02 W)`. Never below 1 px (PaddleX
/// crashes on images narrower than 20 px instead).
pub(crate) fn pick_font_size(fonts: &FontSet, text: &str, width: u32) -> u32 {
    let largest = (0.05 * f64::from(width)) as u32;
    let smallest = (0.02 * f64::from(width)) as u32;
    (smallest..=largest)
        .rev()
        .filter(|&s| s > 0)
        .find(|&s| measure(fonts, text, s).width <= width)
        .unwrap_or(smallest)
        .max(1)
}

/// Measures `text` at `size` px.
pub(crate) fn measure(fonts: &FontSet, text: &str, size: u32) -> TextBox {
    let primary = fonts.primary.as_scaled(px_scale(&fonts.primary, size));
    // FreeType rounds the ascender up to whole pixels.
    let ascent = primary.ascent().ceil();
    let mut pen = 0.0f32;
    let mut ink_right = 0.0f32;
    let (mut y_max, mut y_min) = (f32::NEG_INFINITY, f32::INFINITY);
    for c in text.chars() {
        let (font, id) = fonts.glyph_for(c);
        let scaled = font.as_scaled(px_scale(font, size));
        if let Some(bounds) = font.outline(id).map(|o| o.bounds) {
            let (sx, sy) = (scaled.h_scale_factor(), scaled.v_scale_factor());
            ink_right = ink_right.max(pen + bounds.max.x * sx);
            // Outline bounds are y-up font units, but which corner holds the
            // top varies; take both ends.
            let (lo, hi) = (
                bounds.min.y.min(bounds.max.y),
                bounds.min.y.max(bounds.max.y),
            );
            y_max = y_max.max(hi * sy);
            y_min = y_min.min(lo * sy);
        }
        pen += scaled.h_advance(id);
    }
    if y_max < y_min {
        (y_max, y_min) = (0.0, 0.0);
    }
    TextBox {
        width: pen.round().max(ink_right.ceil()).max(0.0) as u32,
        top: (ascent - y_max).floor() as i32,
        bottom: (ascent - y_min).floor() as i32,
        ascent,
    }
}

/// ab_glyph scales by (ascent - descent); Pillow's size is the em size.
fn px_scale(font: &ab_glyph::FontVec, size: u32) -> PxScale {
    let em = font.units_per_em().unwrap_or(1000.0);
    PxScale::from(size as f32 * font.height_unscaled() / em)
}

/// Fills the inclusive rectangle (x0, y0)–(x1, y1), clipped to the image.
fn fill_rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..=y1.min(h - 1) {
        for x in x0.max(0)..=x1.min(w - 1) {
            img.put_pixel(x as u32, y as u32, BOX_COLOR);
        }
    }
}

/// Draws anti-aliased white text with its anchor (left, ascender) at (x, y).
fn draw_text(img: &mut RgbImage, fonts: &FontSet, text: &str, size: u32, x: f32, y: f32) {
    let primary = fonts.primary.as_scaled(px_scale(&fonts.primary, size));
    let baseline = y + primary.ascent().ceil();
    let mut pen = x;
    for c in text.chars() {
        let (font, id) = fonts.glyph_for(c);
        let scale = px_scale(font, size);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(pen, baseline));
        pen += font.as_scaled(scale).h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            blend(img, px, py, coverage);
        });
    }
}

fn blend(img: &mut RgbImage, x: i64, y: i64, coverage: f32) {
    if x < 0 || y < 0 || x >= i64::from(img.width()) || y >= i64::from(img.height()) {
        return;
    }
    let a = coverage.clamp(0.0, 1.0);
    let pixel = img.get_pixel_mut(x as u32, y as u32);
    for (dst, src) in pixel.0.iter_mut().zip(TEXT_COLOR) {
        // Rounds half up like `round()` on these non-negative values, without
        // a call to `roundf` per channel (the text has many pixels).
        *dst = (f32::from(src) * a + f32::from(*dst) * (1.0 - a) + 0.5) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (text, image width, Pillow's font size, Pillow's box right edge, box bottom)
    /// measured by the real PaddleX (reference/doc_ori/vis_geometry.txt) and Pillow with DejaVu Sans.
    const PILLOW: &[(&str, u32, u32, i64, i64)] = &[
        ("0 0.93", 800, 40, 133, 39),
        ("180 0.93", 800, 40, 184, 39),
        ("90 0.92", 1100, 55, 216, 51),
        ("270 0.93", 1100, 55, 251, 51),
        ("0 0.92", 512, 25, 86, 27),
        ("90 0.43", 451, 22, 90, 25),
        ("180 0.88", 600, 30, 140, 31),
        ("0 0.92", 384, 19, 66, 23),
        ("0 0.91", 640, 32, 108, 32),
        ("180 0.52", 448, 22, 104, 25),
        ("tiger cat 0.39", 451, 22, 154, 31),
        ("espresso 0.9", 600, 30, 196, 37),
    ];

    #[test]
    fn geometry_follows_pillow_within_a_pixel() {
        let fonts = font::fonts();
        for &(text, width, size, right, bottom) in PILLOW {
            assert_eq!(
                pick_font_size(fonts, text, width),
                size,
                "{text} at {width}"
            );
            let tb = measure(fonts, text, size);
            let (r, b) = (3 + i64::from(tb.width) + 3, 3 + i64::from(tb.height()) + 6);
            assert!(
                (r - right).abs() <= 1,
                "{text}: right {r} vs Pillow {right}"
            );
            assert!(
                (b - bottom).abs() <= 1,
                "{text}: bottom {b} vs Pillow {bottom}"
            );
        }
    }

    #[test]
    fn draws_a_red_box_and_white_text() {
        let img = RgbImage::from_pixel(451, 300, Rgb([0, 0, 80]));
        let out = draw_label(&img, "90 0.43");
        assert_eq!(out.get_pixel(3, 3).0, [255, 0, 0]);
        assert_eq!(out.get_pixel(2, 2).0, [0, 0, 80]);
        assert_eq!(out.get_pixel(200, 200).0, [0, 0, 80]);
        let white = (6..90)
            .flat_map(|x| (3..25).map(move |y| (x, y)))
            .filter(|&(x, y)| out.get_pixel(x, y).0 == [255, 255, 255]);
        assert!(white.count() > 50, "text pixels drawn");
    }

    #[test]
    fn tiny_images_do_not_crash() {
        let img = RgbImage::new(5, 5);
        let out = draw_label(&img, "a very long label 0.99");
        assert_eq!(out.dimensions(), (5, 5));
        assert_eq!(label_text("tiger cat", 0.38878), "tiger cat 0.39");
        assert_eq!(label_text("x", 0.125), "x 0.12");
    }
}
