//! Inputs with several pages: PDF files (each page rendered, like PaddleX's
//! pypdfium2 at scale 2) and multi-frame TIFF files (one image per frame, as
//! PaddleX 3.5+ reads them).

use std::path::Path;
use std::sync::Arc;

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::content::ops::TypedInstruction;
use hayro::hayro_syntax::content::TypedIter;
use hayro::hayro_syntax::object::{Dict, Name, Object};
use hayro::hayro_syntax::page::Page;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::{PixmapSettings, RenderCache, RenderSettings};
use image::RgbImage;

use crate::imaging::decode::{tiff_frames, MAX_PIXELS};
use crate::quiet_panic::catch_quietly;

/// PaddleX's default PDF render scale (72 dpi points × 2).
pub(crate) const DEFAULT_PDF_SCALE: f32 = 2.0;

/// The largest rendered page, in pixels: the cap of every other image.
const MAX_PAGE_PIXELS: f64 = MAX_PIXELS as f64;

/// The scale to render PDF pages at: `PADDLE_PDX_PDF_RENDER_SCALE`, else 2.
pub(crate) fn pdf_scale() -> f32 {
    std::env::var("PADDLE_PDX_PDF_RENDER_SCALE")
        .ok()
        .and_then(|v| v.trim().parse::<f32>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_PDF_SCALE)
}

/// A PDF file, read and parsed once and shared by the units of its pages.
pub struct PdfDocument {
    pdf: Pdf,
}

impl PdfDocument {
    /// Reads and parses a PDF file; one with no pages is an error.
    pub(crate) fn open(path: &Path) -> Result<Arc<Self>, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        Self::from_bytes(bytes)
    }

    /// Parses PDF bytes; one with no pages, or holding an image over the
    /// limits ([`check_embedded_images`]), is an error.
    /// A panic in the parser becomes the error.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Arc<Self>, String> {
        catch_quietly(|| {
            let pdf = Pdf::new(bytes).map_err(|e| format!("cannot read the PDF ({e:?})"))?;
            if pdf.pages().is_empty() {
                return Err("the PDF has no pages".into());
            }
            check_embedded_images(&pdf)?;
            Ok(Arc::new(PdfDocument { pdf }))
        })
        .unwrap_or_else(|panic| Err(format!("cannot read the PDF (the parser failed: {panic})")))
    }

    /// The number of pages.
    pub fn page_count(&self) -> usize {
        self.pdf.pages().len()
    }

    /// The size of page `index` in points (as rendered: rotation applied).
    pub fn page_size(&self, index: usize) -> Option<(f32, f32)> {
        self.pdf
            .pages()
            .get(index)
            .map(|page| page.render_dimensions())
    }

    /// Renders page `index` on white at [`pdf_scale`], or smaller when the
    /// page would exceed the pixel cap ([`render_scale`]).
    /// A panic in the renderer becomes the error.
    pub fn render_page(&self, index: usize) -> Result<RgbImage, String> {
        catch_quietly(|| self.render_page_inner(index)).unwrap_or_else(|panic| {
            Err(format!(
                "cannot render the page (the renderer failed: {panic})"
            ))
        })
    }

    fn render_page_inner(&self, index: usize) -> Result<RgbImage, String> {
        let pages = self.pdf.pages();
        let page = pages
            .get(index)
            .ok_or_else(|| format!("the PDF has no page {index}"))?;
        check_inline_images(page)?;
        let (w, h) = page.render_dimensions();
        let scale = render_scale(w, h, pdf_scale())
            .ok_or_else(|| format!("the page ({w} x {h} pt) cannot be rendered"))?;
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
        RgbImage::from_raw(pw, ph, rgb)
            .ok_or_else(|| "the rendered page has an unexpected size".into())
    }
}

impl std::fmt::Debug for PdfDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PdfDocument({} pages)", self.page_count())
    }
}

/// Two documents are equal only when they are the same parsed file.
impl PartialEq for PdfDocument {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for PdfDocument {}

/// The longest side accepted for an image inside a PDF (the longest a
/// rendered page can have).
const MAX_EMBEDDED_SIDE: f64 = 65_535.0;

/// Refuses a PDF that holds an image (an image XObject or a soft mask, in
/// any object, object streams included) whose declared size exceeds
/// [`MAX_PIXELS`] or [`MAX_EMBEDDED_SIDE`]: the renderer decodes and
/// scales each image at its declared size, so a few bytes declaring
/// 99999999 x 10 pixels would cost gigabytes. Images inline in the content
/// of a form XObject (`BI ... EI`) are checked here too; those inline in a
/// page's content, page by page ([`check_inline_images`]).
fn check_embedded_images(pdf: &Pdf) -> Result<(), String> {
    for object in pdf.objects() {
        if let Object::Stream(stream) = object {
            let dict = stream.dict();
            check_image_dict(dict)?;
            let form = dict
                .get::<Name>(b"Subtype")
                .is_some_and(|n| n.as_str() == "Form");
            if form {
                // Content that cannot be decoded draws nothing.
                if let Ok(content) = stream.decoded() {
                    check_inline_ops(TypedIter::new(&content))?;
                }
            }
        }
    }
    Ok(())
}

/// Refuses a page whose content stream has an inline image (`BI ... EI`)
/// whose declared size is over the limits of [`check_embedded_images`].
fn check_inline_images(page: &Page<'_>) -> Result<(), String> {
    check_inline_ops(page.typed_operations())
}

/// Refuses content whose inline images are over the limits.
fn check_inline_ops(mut ops: TypedIter<'_>) -> Result<(), String> {
    while let Some(op) = ops.next() {
        if let TypedInstruction::InlineImage(image) = op {
            check_image_dict(image.0.dict())?;
        }
    }
    Ok(())
}

/// An image's declared size (`Width`/`Height`, or `W`/`H` inline) within
/// [`MAX_PIXELS`] and [`MAX_EMBEDDED_SIDE`]; a dict without both is not an image.
fn check_image_dict(dict: &Dict<'_>) -> Result<(), String> {
    let side = |long: &[u8], short: &[u8]| dict.get::<f64>(long).or_else(|| dict.get::<f64>(short));
    let (Some(w), Some(h)) = (side(b"Width", b"W"), side(b"Height", b"H")) else {
        return Ok(());
    };
    let within = w <= MAX_EMBEDDED_SIDE && h <= MAX_EMBEDDED_SIDE && w * h <= MAX_PAGE_PIXELS;
    if within {
        Ok(())
    } else {
        Err(format!(
            "the PDF holds an image of {w}x{h} pixels, over the limit of {MAX_PIXELS} pixels and {MAX_EMBEDDED_SIDE} a side"
        ))
    }
}

/// The scale for a `w` x `h` pt page: `requested`, lowered so that the
/// rendered page stays within [`MAX_PAGE_PIXELS`] and each side within the
/// renderer's 65535 pixels (no floor: a huge page is rendered small, never
/// over the cap). `None` when the page has no area or renders to nothing.
fn render_scale(w: f32, h: f32, requested: f32) -> Option<f32> {
    let (w, h) = (f64::from(w), f64::from(h));
    if !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
        return None;
    }
    let side_cap = f64::from(u16::MAX);
    let scale = f64::from(requested)
        .min((MAX_PAGE_PIXELS / (w * h)).sqrt())
        .min(side_cap / w)
        .min(side_cap / h);
    // f32 rounding must not tip the page over the cap: shrink until the
    // renderer's truncated sides fit.
    let mut scale = scale as f32;
    for _ in 0..8 {
        let (pw, ph) = page_pixels(w, h, scale);
        if pw * ph <= MAX_PAGE_PIXELS as u64
            && pw <= u64::from(u16::MAX)
            && ph <= u64::from(u16::MAX)
        {
            return (pw > 0 && ph > 0).then_some(scale);
        }
        scale *= 0.999;
    }
    None
}

/// The pixmap size hayro gives a `w` x `h` pt page at `scale` (truncated).
fn page_pixels(w: f64, h: f64, scale: f32) -> (u64, u64) {
    let side = |s: f64| (s as f32 * scale).max(0.0) as u64;
    (side(w), side(h))
}

/// The number of frames of a TIFF file (1 for a plain one).
pub fn tiff_frame_count(path: &Path) -> Result<usize, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    tiff_frames::frame_count(std::io::BufReader::new(file)).map_err(|e| e.to_string())
}

/// Decodes frame `index` of a TIFF file to RGB8, under the limits and the
/// orientation rule of every other image.
pub fn decode_tiff_frame(path: &Path, index: usize) -> Result<RgbImage, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    tiff_frames::decode_frame(std::io::BufReader::new(file), index).map_err(|e| e.to_string())
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
        assert!(PdfDocument::open(&path).is_err());
    }

    #[test]
    fn an_embedded_image_over_the_limits_is_refused_before_rendering() {
        let pdf = |width: &str, height: &str| {
            let image = format!("<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 4 >>\nstream\n\0\0\0\0\nendstream");
            one_page_pdf(&[
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 4 3] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
                &image,
                "<< /Length 26 >>\nstream\nq 4 0 0 3 0 0 cm /Im0 Do Q\nendstream",
            ])
        };
        let doc = PdfDocument::from_bytes(pdf("2", "2")).unwrap();
        assert_eq!(doc.render_page(0).unwrap().dimensions(), (8, 6));
        // A 99999999 x 10 image in a few bytes: the renderer would plan a
        // 800 MB resize for it.
        let err = PdfDocument::from_bytes(pdf("99999999", "10")).unwrap_err();
        assert!(
            err.starts_with("the PDF holds an image of 99999999x10 pixels"),
            "{err}"
        );
        let err = PdfDocument::from_bytes(pdf("20000", "20000")).unwrap_err();
        assert!(err.contains("over the limit"), "{err}");
        // The same for an image inline in the page's content.
        let inline_image = |w: &str| format!("BI /W {w} /H 1 /CS /G /BPC 8 ID \0\0 EI");
        let inline = |w: &str| {
            let content = format!("q 4 0 0 3 0 0 cm {} Q", inline_image(w));
            one_page_pdf(&[
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 4 3] /Contents 4 0 R >>",
                &stream_object("", &content),
            ])
        };
        let doc = PdfDocument::from_bytes(inline("2")).unwrap();
        assert_eq!(doc.render_page(0).unwrap().dimensions(), (8, 6));
        let doc = PdfDocument::from_bytes(inline("99999999")).unwrap();
        let err = doc.render_page(0).unwrap_err();
        assert!(
            err.starts_with("the PDF holds an image of 99999999x1 pixels"),
            "{err}"
        );
        // And for one inline in a form XObject the page draws.
        let in_form = |w: &str| {
            one_page_pdf(&[
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 4 3] /Resources << /XObject << /Fm0 4 0 R >> >> /Contents 5 0 R >>",
                &stream_object("/Type /XObject /Subtype /Form /BBox [0 0 1 1] ", &inline_image(w)),
                &stream_object("", "q 4 0 0 3 0 0 cm /Fm0 Do Q"),
            ])
        };
        let doc = PdfDocument::from_bytes(in_form("2")).unwrap();
        assert_eq!(doc.render_page(0).unwrap().dimensions(), (8, 6));
        let err = PdfDocument::from_bytes(in_form("99999999")).unwrap_err();
        assert!(
            err.starts_with("the PDF holds an image of 99999999x1 pixels"),
            "{err}"
        );
    }

    /// A stream object: `content` with its `/Length` after the `extra` keys.
    fn stream_object(extra: &str, content: &str) -> String {
        format!(
            "<< {extra}/Length {} >>\nstream\n{content}\nendstream",
            content.len()
        )
    }

    /// A PDF of one page: `objects` are objects 3, 4, ... (the page first).
    fn one_page_pdf(objects: &[&str]) -> Vec<u8> {
        let mut all = vec![
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        ];
        all.extend(objects.iter().map(|o| o.to_string()));
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in all.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", all.len() + 1).as_bytes(),
        );
        for off in offsets {
            out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                all.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn a_huge_page_is_rendered_within_the_pixel_cap() {
        // 200,000 pt square: at the old 0.1 floor, 20,000 x 20,000 pixels.
        let scale = render_scale(200_000.0, 200_000.0, 2.0).unwrap();
        let (pw, ph) = page_pixels(200_000.0, 200_000.0, scale);
        assert!(pw * ph <= MAX_PIXELS, "{pw} x {ph}");
        assert!(
            pw * ph > MAX_PIXELS / 10 * 9,
            "{pw} x {ph}: not much smaller"
        );
        // An ordinary page keeps the requested scale.
        assert_eq!(render_scale(595.0, 842.0, 2.0), Some(2.0));
        // A long, thin page keeps each side within the renderer's u16.
        let scale = render_scale(1_000_000.0, 100.0, 2.0).unwrap();
        assert!(page_pixels(1_000_000.0, 100.0, scale).0 <= 65_535);
        // Nothing to render.
        assert_eq!(render_scale(0.0, 10.0, 2.0), None);
        assert_eq!(render_scale(1e9, 1.0, 2.0), None);
        assert_eq!(render_scale(f32::NAN, 1.0, 2.0), None);
    }
}
