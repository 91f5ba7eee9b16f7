//! Inputs with several pages: PDF files (each page rendered, like PaddleX's
//! pypdfium2 at scale 2) and multi-frame TIFF files (one image per frame, as
//! PaddleX 3.5+ reads them).

use std::path::Path;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use image::RgbImage;

/// PaddleX's default PDF render scale (72 dpi points × 2).
pub const DEFAULT_PDF_SCALE: f32 = 2.0;

/// The largest rendered page, in pixels (PaddleX caps pages the same way).
const MAX_PAGE_PIXELS: f32 = 178_956_970.0;

/// The scale to render PDF pages at: `PADDLE_PDX_PDF_RENDER_SCALE`, else 2.
pub fn pdf_scale() -> f32 {
    std::env::var("PADDLE_PDX_PDF_RENDER_SCALE")
        .ok()
        .and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_PDF_SCALE)
}

fn open_pdf(path: &Path) -> Result<Pdf, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    Pdf::new(bytes).map_err(|e| format!("cannot read the PDF ({e:?})"))
}

/// The number of pages of a PDF file.
pub fn pdf_page_count(path: &Path) -> Result<usize, String> {
    let pdf = open_pdf(path)?;
    match pdf.pages().len() {
        0 => Err("the PDF has no pages".into()),
        n => Ok(n),
    }
}

/// Renders page `index` of a PDF on white at [`pdf_scale`].
pub fn render_pdf_page(path: &Path, index: usize) -> Result<RgbImage, String> {
    let pdf = open_pdf(path)?;
    let pages = pdf.pages();
    let page = pages
        .get(index)
        .ok_or_else(|| format!("the PDF has no page {index}"))?;
    let (w, h) = page.render_dimensions();
    let mut scale = pdf_scale();
    if w * h * scale * scale > MAX_PAGE_PIXELS {
        scale = (MAX_PAGE_PIXELS / (w * h)).sqrt().max(0.1);
    }
    let cache = RenderCache::new();
    let settings = PixmapSettings {
        x_scale: scale,
        y_scale: scale,
        bg_color: WHITE,
    };
    let pixmap = hayro::render(
        page,
        &cache,
        &InterpreterSettings::default(),
        &RenderSettings::default(),
        &settings,
    );
    let (pw, ph) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
    if pw == 0 || ph == 0 {
        return Err("the page renders to an empty image".into());
    }
    // The background is opaque white, so premultiplied RGBA is plain RGBA.
    let rgb: Vec<u8> = pixmap
        .data_as_u8_slice()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    RgbImage::from_raw(pw, ph, rgb).ok_or_else(|| "the rendered page has an unexpected size".into())
}

/// The number of frames of a TIFF file (1 for a plain one).
pub fn tiff_frame_count(path: &Path) -> Result<usize, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder =
        tiff::decoder::Decoder::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    let mut count = 1;
    while decoder.more_images() {
        decoder.next_image().map_err(|e| e.to_string())?;
        count += 1;
    }
    Ok(count)
}

/// Decodes frame `index` of a TIFF file to RGB8.
pub fn decode_tiff_frame(path: &Path, index: usize) -> Result<RgbImage, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut decoder =
        tiff::decoder::Decoder::new(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    for _ in 0..index {
        decoder.next_image().map_err(|e| e.to_string())?;
    }
    let (w, h) = decoder.dimensions().map_err(|e| e.to_string())?;
    let colortype = decoder.colortype().map_err(|e| e.to_string())?;
    let data = decoder.read_image().map_err(|e| e.to_string())?;
    frame_to_rgb(w, h, colortype, data)
}

/// Interleaved TIFF samples to RGB8 with OpenCV's conventions (grey replicated,
/// alpha dropped, 16-bit by `>> 8`).
fn frame_to_rgb(
    w: u32,
    h: u32,
    colortype: tiff::ColorType,
    data: tiff::decoder::DecodingResult,
) -> Result<RgbImage, String> {
    use tiff::decoder::DecodingResult as D;
    use tiff::ColorType as C;
    let samples8: Vec<u8> = match data {
        D::U8(v) => v,
        // OpenCV's rule for 16-bit samples: keep the high byte.
        D::U16(v) => v.into_iter().map(|s| (s >> 8) as u8).collect(),
        _ => return Err("unsupported TIFF sample format".into()),
    };
    let channels = match colortype {
        C::Gray(_) => 1,
        C::GrayA(_) => 2,
        C::RGB(_) => 3,
        C::RGBA(_) => 4,
        other => return Err(format!("unsupported TIFF colour type {other:?}")),
    };
    let rgb: Vec<u8> = samples8
        .chunks_exact(channels)
        .flat_map(|p| {
            if channels >= 3 {
                [p[0], p[1], p[2]]
            } else {
                [p[0], p[0], p[0]]
            }
        })
        .collect();
    RgbImage::from_raw(w, h, rgb).ok_or_else(|| "TIFF frame has an unexpected size".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_frame_tiff_frames_are_counted_and_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.tiff");
        let file = std::fs::File::create(&path).unwrap();
        let mut enc = tiff::encoder::TiffEncoder::new(file).unwrap();
        enc.write_image::<tiff::encoder::colortype::RGB8>(2, 1, &[255, 0, 0, 255, 0, 0])
            .unwrap();
        enc.write_image::<tiff::encoder::colortype::Gray16>(1, 2, &[0x1234, 0xff00])
            .unwrap();
        drop(enc);
        assert_eq!(tiff_frame_count(&path).unwrap(), 2);
        assert_eq!(
            decode_tiff_frame(&path, 0).unwrap().get_pixel(1, 0).0,
            [255, 0, 0]
        );
        let second = decode_tiff_frame(&path, 1).unwrap();
        assert_eq!(second.dimensions(), (1, 2));
        assert_eq!(second.get_pixel(0, 1).0, [0xff, 0xff, 0xff]);
        assert_eq!(second.get_pixel(0, 0).0, [0x12, 0x12, 0x12]);
    }

    #[test]
    fn a_broken_pdf_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pdf");
        std::fs::write(&path, b"%PDF-1.4 garbage").unwrap();
        assert!(pdf_page_count(&path).is_err());
    }
}
