//! A decoded photo kept for its visualisation, in as little memory as the
//! output format allows.
//!
//! The label is only known after inference, but it only covers a band at
//! the top of the photo whose height depends on the width alone (the font
//! size is at most 5 % of it). For a JPEG visualisation the rows below that
//! band are encoded as soon as the photo is decoded (the encoder's restart
//! markers make the pieces independent), and only the band's pixels wait for
//! the label: about a seventh of a 3:2 photo, plus a tenth for the coded
//! rows. Other formats keep every pixel.

use image::RgbImage;

use super::{draw_label_in_place, font};
use crate::imaging::decode;
use crate::imaging::jpeg::{self, JpegLayout, MCU_LINES};

/// Quality of saved JPEG visualisations (Pillow's default).
pub(crate) const JPEG_QUALITY: u8 = 75;

/// What the saving stage needs of a photo.
pub enum Visual {
    /// Every pixel, for formats other than JPEG (or photos no taller than the band).
    Pixels(RgbImage),
    /// A JPEG whose rows below the label band are already encoded.
    Jpeg(Box<PartialJpeg>),
}

/// A JPEG encoded except for the band the label is drawn on.
pub struct PartialJpeg {
    layout: JpegLayout,
    /// The top rows, full width, still as pixels.
    band: RgbImage,
    /// The coded MCU rows below the band.
    rest: Vec<u8>,
}

impl Visual {
    /// Keeps `image` for a JPEG visualisation: encodes what lies below the
    /// label band and hands the full-size pixels back for the next decode.
    /// Images JPEG cannot hold keep their pixels (saving reports the error).
    pub fn for_jpeg(image: RgbImage) -> Visual {
        let (width, height) = image.dimensions();
        let band_lines = label_band_lines(width);
        let layout = match JpegLayout::new(width, height, JPEG_QUALITY) {
            Ok(layout) if band_lines < height => layout,
            _ => return Visual::Pixels(image),
        };
        let split = band_lines as usize * width as usize * 3;
        let (top, below) = image.as_raw().split_at(split.min(image.as_raw().len()));
        let mut rest = Vec::with_capacity(below.len() / 10);
        layout.encode_rows(below, band_lines, &mut rest);
        let Some(band) = RgbImage::from_raw(width, band_lines, top.to_vec()) else {
            return Visual::Pixels(image);
        };
        decode::recycle(image);
        Visual::Jpeg(Box::new(PartialJpeg { layout, band, rest }))
    }

    #[cfg(test)]
    /// The bytes this visual holds: pixels and coded rows.
    pub(crate) fn held_bytes(&self) -> usize {
        match self {
            Visual::Pixels(image) => image.as_raw().len(),
            Visual::Jpeg(p) => p.band.as_raw().len() + p.rest.len(),
        }
    }
}

impl PartialJpeg {
    /// Draws `text` on the band and returns the whole JPEG file; gives the
    /// band's pixels back for the next decode.
    pub fn finish(mut self, text: &str) -> Vec<u8> {
        // Drawing is clipped to the band, which is taller than any label.
        draw_label_in_place(&mut self.band, text);
        let mut out = Vec::with_capacity(self.rest.len() + self.band.as_raw().len() / 8 + 1024);
        self.layout.header(&mut out);
        self.layout.encode_rows(self.band.as_raw(), 0, &mut out);
        out.extend_from_slice(&self.rest);
        jpeg::trailer(&mut out);
        decode::recycle(self.band);
        out
    }
}

/// Lines at the top of a photo `width` pixels wide that a label can touch,
/// rounded up to whole MCU rows. The label box spans 3 + text height + 6
/// lines and the text is anchored at line 3, at a font size of at most 5 %
/// of the width; no glyph's ink reaches further than the fonts' bounding
/// boxes (plus a line for rounding the ascender and one for anti-aliasing).
pub(crate) fn label_band_lines(width: u32) -> u32 {
    let largest_size = (0.05 * f64::from(width)).max(1.0);
    let text = font::fonts().ink_extent_em() * largest_size;
    let lines = 3.0 + text + 6.0 + 2.0;
    (lines.ceil() as u32).div_ceil(MCU_LINES) * MCU_LINES
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visualize::{label_text, measure, pick_font_size};

    fn photo(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
        })
    }

    #[test]
    fn the_split_jpeg_equals_drawing_then_encoding_the_whole() {
        for (w, h) in [(451, 300), (640, 1000), (1003, 777)] {
            let img = photo(w, h);
            let text = label_text("tabby, tabby cat", 0.87);
            let mut drawn = img.clone();
            draw_label_in_place(&mut drawn, &text);
            let whole = jpeg::encode(drawn.as_raw(), w, h, JPEG_QUALITY).unwrap();
            let Visual::Jpeg(partial) = Visual::for_jpeg(img) else {
                panic!("{w}x{h} should be split");
            };
            assert_eq!(partial.finish(&text), whole, "{w}x{h}");
        }
    }

    #[test]
    fn the_band_holds_the_largest_label() {
        let fonts = font::fonts();
        for width in [20, 100, 451, 1000, 4000] {
            let band = label_band_lines(width);
            assert_eq!(band % MCU_LINES, 0);
            for label in ["Wg", "ÅÇ jumbo 0.99", "a", "9 0.12"] {
                let size = pick_font_size(fonts, label, width);
                let tb = measure(fonts, label, size);
                let box_bottom = 3 + tb.height() + 6;
                let ink_bottom = (3 + tb.bottom).max(0) as u32;
                assert!(
                    box_bottom < band && ink_bottom < band,
                    "{label} at {width}: box {box_bottom}, ink {ink_bottom}, band {band}"
                );
            }
        }
    }

    #[test]
    fn short_photos_keep_their_pixels_and_big_ones_shrink() {
        assert!(matches!(
            Visual::for_jpeg(photo(1000, 60)),
            Visual::Pixels(_)
        ));
        let visual = Visual::for_jpeg(photo(1500, 1000));
        assert!(matches!(visual, Visual::Jpeg(_)));
        // 4.5 MB of pixels become the band (144 lines) plus the coded rows.
        assert!(
            visual.held_bytes() < 4_500_000 / 3,
            "{}",
            visual.held_bytes()
        );
    }
}
