//! Decoding any supported file to the RGB8 image PaddleX works on, with
//! OpenCV's `IMREAD_COLOR` conventions: EXIF orientation applied, grey
//! replicated, alpha dropped (not composited), 16-bit scaled by `>> 8`.
//! The format comes from the bytes, not the file name, as with `cv2.imdecode`.
//!
//! JPEG files go to libjpeg-turbo ([`jpeg`]), as in OpenCV, for the same
//! pixels; every other format to the `image` crate. `--fast_decode` asks
//! for a reduced JPEG decode ([`decode_file_reduced`], [`scale`]).

pub(crate) mod exif;
pub mod jpeg;
pub(crate) mod jpeg_markers;
mod orient;
pub(crate) mod scale;
pub(crate) mod tiff_frames;

use std::io::Cursor;
use std::path::Path;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use scale::{MinSize, Scale};

/// Largest image accepted, in pixels (about 13k x 13k): Pillow's decompression-bomb
/// error threshold, twice its `MAX_IMAGE_PIXELS`.
pub const MAX_PIXELS: u64 = 178_956_970;

/// The most a decoder may allocate for one image: room for the largest
/// allowed image in the widest pixel type (RGBA32F).
const MAX_ALLOC_BYTES: u64 = MAX_PIXELS * 16;

/// Refuses a declared size over [`MAX_PIXELS`] or with a zero side, before
/// anything is allocated for it.
pub(crate) fn check_dimensions(width: u32, height: u32) -> Result<(), DecodeError> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::TooLarge { width, height });
    }
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSized { width, height });
    }
    Ok(())
}

/// Why an image could not be decoded. Messages are written to follow the file name.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The path does not exist.
    #[error("No such file or directory")]
    NotFound,
    /// Reading failed for another reason.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// Zero bytes.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not a format we decode.
    #[error("not an image file (unrecognised or unsupported format)")]
    NotImage,
    /// Declared dimensions are too large (decompression bomb guard).
    #[error("image of {width}x{height} pixels exceeds the limit of {MAX_PIXELS} pixels")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A zero-sized image.
    #[error("the image has no pixels ({width}x{height})")]
    ZeroSized {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The decoder failed: truncated or corrupt data.
    #[error("cannot decode the image ({0})")]
    Corrupt(String),
}

/// Reads and decodes a file.
pub fn decode_file(path: &Path) -> Result<RgbImage, DecodeError> {
    decode_file_reduced(path, None).map(|(image, _)| image)
}

/// Reads and decodes a file; a JPEG, with `reduce`, at the largest DCT
/// reduction that leaves it at least `reduce` in displayed orientation
/// (`--fast_decode`). Returns the image and the scale it was decoded at
/// ([`Scale::FULL`] for every other format and without `reduce`).
pub(crate) fn decode_file_reduced(
    path: &Path,
    reduce: Option<MinSize>,
) -> Result<(RgbImage, Scale), DecodeError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DecodeError::NotFound,
        _ => DecodeError::Io(e.to_string()),
    })?;
    decode_named(&bytes, Some(path), reduce)
}

/// Decodes encoded image bytes. Unlike a file decode, it keeps no turned
/// buffer on the thread (see [`decode_jpeg`]): its callers (the server)
/// run on threads that never [`recycle`].
pub fn decode_bytes(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    decode_named(bytes, None, None).map(|(image, _)| image)
}

/// Decodes bytes; `path`, when known, names the file in warnings (and
/// marks a file decode, which keeps a turned buffer); `reduce` as for
/// [`decode_file_reduced`].
fn decode_named(
    bytes: &[u8],
    path: Option<&Path>,
    reduce: Option<MinSize>,
) -> Result<(RgbImage, Scale), DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if jpeg::is_jpeg(bytes) {
        return decode_jpeg(bytes, path, reduce);
    }
    let mut decoder = open_decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = if decoder.color_type() == image::ColorType::Rgb8 {
        DynamicImage::ImageRgb8(read_rgb8(decoder, width, height)?)
    } else {
        DynamicImage::from_decoder(decoder).map_err(classify)?
    };
    img.apply_orientation(orientation);
    Ok((to_rgb8_like_opencv(img), Scale::FULL))
}

/// The `image` crate's decoder for non-JPEG `bytes`, its header read, under
/// the allocation limit: what decoding starts from, and what the serving
/// size probe reads (so both read a header the same way).
pub(crate) fn open_decoder(bytes: &[u8]) -> Result<impl ImageDecoder + '_, DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::Io(e.to_string()))?;
    if reader.format().is_none() {
        return Err(DecodeError::NotImage);
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    reader.limits(limits);
    reader.into_decoder().map_err(classify)
}

/// A JPEG through libjpeg-turbo, its first warning logged (as `cv2.imread`
/// prints libjpeg's, e.g. "Premature end of JPEG file"), then EXIF
/// orientation applied. A reduction is chosen on the stored size, so the
/// bound is transposed for the orientations that swap width and height.
///
/// A file decode (`path` known: the CLI pipeline and the Python binding,
/// whose threads are a fixed pool) turns the pixels into this thread's
/// second buffer and keeps the decoded one there for the next photo; a
/// bytes decode turns them into fresh memory and keeps nothing.
fn decode_jpeg(
    bytes: &[u8],
    path: Option<&Path>,
    reduce: Option<MinSize>,
) -> Result<(RgbImage, Scale), DecodeError> {
    let orientation = exif::jpeg_orientation(bytes).unwrap_or(Orientation::NoTransforms);
    let reduce = reduce.map(|need| {
        if orient::swaps_sides(orientation) {
            need.transposed()
        } else {
            need
        }
    });
    let decoded = jpeg::decode(bytes, SPARE.take(), reduce)?;
    if let Some(warning) = decoded.warning {
        let name = path.map_or_else(|| "JPEG".into(), |p| p.display().to_string());
        crate::log::warn(&format!("{name}: {warning}"));
    }
    let image = match orientation {
        Orientation::NoTransforms => decoded.image,
        orientation if path.is_some() => {
            // Into this thread's second buffer; the decoded one becomes it.
            let shown = orient::oriented(&decoded.image, orientation, TURNED.take());
            keep_spare(&TURNED, decoded.image.into_raw());
            shown
        }
        orientation => orient::oriented(&decoded.image, orientation, Vec::new()),
    };
    Ok((image, decoded.scale))
}

/// Largest pixel buffer kept for reuse (bytes): a 24 MP (6016 x 4016) photo,
/// so that camera photos reuse memory too.
const MAX_RECYCLED: usize = 6016 * 4016 * 3;

thread_local! {
    /// A pixel buffer handed back by [`recycle`], reused by the next decode on this thread.
    static SPARE: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    /// A second one, for the pixels of a JPEG turned by its EXIF orientation.
    static TURNED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Hands back the pixels of an image that is no longer needed, so that the
/// next decode on this thread writes into memory that is already mapped
/// instead of a fresh, zeroed allocation (zeroing and page faults cost
/// about as much as resizing the image). Of two buffers the larger is kept.
pub fn recycle(image: RgbImage) {
    keep_spare(&SPARE, image.into_raw());
}

/// Keeps `buf` in `spare` (the larger of the two), unless it is over
/// [`MAX_RECYCLED`].
fn keep_spare(spare: &'static std::thread::LocalKey<std::cell::Cell<Vec<u8>>>, buf: Vec<u8>) {
    if buf.capacity() > MAX_RECYCLED {
        return;
    }
    let old = spare.take();
    spare.set(if old.capacity() >= buf.capacity() {
        old
    } else {
        buf
    });
}

/// Decodes an RGB8 image into the recycled buffer when there is one.
fn read_rgb8(decoder: impl ImageDecoder, width: u32, height: u32) -> Result<RgbImage, DecodeError> {
    let len = usize::try_from(decoder.total_bytes())
        .map_err(|_| DecodeError::TooLarge { width, height })?;
    let mut buf = SPARE.take();
    // Shrinking keeps the old bytes (the decoder overwrites them all); only
    // growth is zero-filled.
    buf.truncate(len);
    buf.resize(len, 0);
    decoder.read_image(&mut buf).map_err(classify)?;
    RgbImage::from_raw(width, height, buf)
        .ok_or_else(|| DecodeError::Corrupt("the decoder gave a buffer of the wrong size".into()))
}

fn classify(err: image::ImageError) -> DecodeError {
    match err {
        image::ImageError::Unsupported(_) => DecodeError::NotImage,
        image::ImageError::Limits(e) => DecodeError::Corrupt(format!("limit exceeded: {e}")),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// RGB8 the way OpenCV's `IMREAD_COLOR` produces it (then turned to RGB).
fn to_rgb8_like_opencv(img: DynamicImage) -> RgbImage {
    match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        DynamicImage::ImageRgb16(buf) => from_u16(buf.width(), buf.height(), buf.as_raw(), 3),
        DynamicImage::ImageRgba16(buf) => from_u16(buf.width(), buf.height(), buf.as_raw(), 4),
        DynamicImage::ImageLuma16(buf) => from_u16(buf.width(), buf.height(), buf.as_raw(), 1),
        DynamicImage::ImageLumaA16(buf) => from_u16(buf.width(), buf.height(), buf.as_raw(), 2),
        // 8-bit grey is replicated and alpha dropped by the standard conversion.
        other => other.to_rgb8(),
    }
}

/// 16-bit samples to 8-bit by dropping the low byte (OpenCV's rule, not rounding).
fn from_u16(width: u32, height: u32, samples: &[u16], channels: usize) -> RgbImage {
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    for px in samples.chunks_exact(channels) {
        let (r, g, b) = if channels >= 3 {
            (px[0], px[1], px[2])
        } else {
            (px[0], px[0], px[0])
        };
        out.extend_from_slice(&[(r >> 8) as u8, (g >> 8) as u8, (b >> 8) as u8]);
    }
    // The buffer length is width * height * 3 by construction.
    RgbImage::from_raw(width, height, out).unwrap_or_else(|| RgbImage::new(width, height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Luma, Rgba};

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn grey_is_replicated_and_alpha_dropped() {
        let grey = DynamicImage::ImageLuma8(image::ImageBuffer::from_pixel(3, 2, Luma([77u8])));
        let rgb = decode_bytes(&encode(&grey, ImageFormat::Png)).unwrap();
        assert_eq!(rgb.get_pixel(2, 1).0, [77, 77, 77]);
        let rgba = DynamicImage::ImageRgba8(image::ImageBuffer::from_pixel(
            2,
            2,
            Rgba([10u8, 20, 30, 0]),
        ));
        let rgb = decode_bytes(&encode(&rgba, ImageFormat::Png)).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [10, 20, 30]);
    }

    #[test]
    fn sixteen_bit_drops_the_low_byte() {
        let img = image::ImageBuffer::from_pixel(1, 1, image::Rgb([0x12ffu16, 0x00ff, 0xff80]));
        let bytes = encode(&DynamicImage::ImageRgb16(img), ImageFormat::Png);
        assert_eq!(
            decode_bytes(&bytes).unwrap().get_pixel(0, 0).0,
            [0x12, 0x00, 0xff]
        );
    }

    #[test]
    fn bad_bytes_get_distinct_reasons() {
        assert!(matches!(decode_bytes(b""), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_bytes(b"hello, this is text"),
            Err(DecodeError::NotImage)
        ));
        let png = encode(&DynamicImage::new_rgb8(64, 64), ImageFormat::Png);
        let truncated = &png[..png.len() / 2];
        assert!(matches!(
            decode_bytes(truncated),
            Err(DecodeError::Corrupt(_))
        ));
        assert!(matches!(
            decode_file(Path::new("no/such.png")),
            Err(DecodeError::NotFound)
        ));
    }

    #[test]
    fn recycled_buffers_give_the_same_pixels() {
        let big = DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(40, 30, |x, y| {
            image::Rgb([x as u8 * 6, y as u8 * 8, 200])
        }));
        let small = DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(
            7,
            5,
            image::Rgb([9u8, 99, 199]),
        ));
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let (big, small) = (encode(&big, format), encode(&small, format));
            let fresh = decode_bytes(&small).unwrap();
            recycle(decode_bytes(&big).unwrap());
            let reused = decode_bytes(&small).unwrap();
            assert_eq!(reused, fresh, "{format:?}");
            assert_eq!(reused.as_raw().len(), 7 * 5 * 3);
            recycle(reused);
            assert_eq!(decode_bytes(&big).unwrap().dimensions(), (40, 30));
        }
    }

    #[test]
    fn the_larger_spare_buffer_is_kept() {
        recycle(RgbImage::new(40, 30));
        recycle(RgbImage::new(4, 3));
        assert!(SPARE.take().capacity() >= 40 * 30 * 3);
    }

    #[test]
    fn only_a_file_decode_keeps_a_turned_buffer() {
        let jpeg = encode(&DynamicImage::new_rgb8(40, 30), ImageFormat::Jpeg);
        let rotated = insert_exif_orientation(&jpeg, 6);
        TURNED.take();
        assert_eq!(decode_bytes(&rotated).unwrap().dimensions(), (30, 40));
        assert_eq!(TURNED.take().capacity(), 0, "a bytes decode keeps nothing");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jpg");
        std::fs::write(&path, &rotated).unwrap();
        assert_eq!(decode_file(&path).unwrap().dimensions(), (30, 40));
        assert!(TURNED.take().capacity() >= 40 * 30 * 3);
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 4x2 JPEG with EXIF orientation 6 (rotate 90° clockwise) decodes as 2x4.
        let img = DynamicImage::new_rgb8(4, 2);
        let jpeg = encode(&img, ImageFormat::Jpeg);
        let with_exif = insert_exif_orientation(&jpeg, 6);
        let rgb = decode_bytes(&with_exif).unwrap();
        assert_eq!(rgb.dimensions(), (2, 4));
    }

    #[test]
    fn a_reduction_is_bounded_in_displayed_orientation() {
        // Stored 1000x600, shown 600x1000 (orientation 6); bounds kept twice
        // (MARGIN): 150x250 needs 300x500.
        let jpeg = encode(&DynamicImage::new_rgb8(1000, 600), ImageFormat::Jpeg);
        let rotated = insert_exif_orientation(&jpeg, 6);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jpg");
        std::fs::write(&path, &rotated).unwrap();
        let (img, scale) = decode_file_reduced(&path, Some(MinSize::Each(150, 250))).unwrap();
        assert_eq!((img.dimensions(), scale.denominator()), ((300, 500), 2));
        // Not reducible once the bound is met only the other way round.
        let (img, scale) = decode_file_reduced(&path, Some(MinSize::Each(250, 150))).unwrap();
        assert_eq!((img.dimensions(), scale), ((600, 1000), Scale::FULL));
        // Other formats are never reduced.
        std::fs::write(
            &path,
            encode(&DynamicImage::new_rgb8(1000, 600), ImageFormat::Png),
        )
        .unwrap();
        let (img, scale) = decode_file_reduced(&path, Some(MinSize::Short(8))).unwrap();
        assert_eq!((img.dimensions(), scale), ((1000, 600), Scale::FULL));
    }

    /// Inserts an APP1 Exif segment holding only the orientation tag after SOI.
    fn insert_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
        let mut tiff = Vec::new();
        tiff.extend_from_slice(b"II*\0");
        tiff.extend_from_slice(&8u32.to_le_bytes()); // IFD offset
        tiff.extend_from_slice(&1u16.to_le_bytes()); // one entry
        tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
        tiff.extend_from_slice(&3u16.to_le_bytes()); // SHORT
        tiff.extend_from_slice(&1u32.to_le_bytes()); // count
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0]);
        tiff.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
        let mut payload = b"Exif\0\0".to_vec();
        payload.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xff, 0xe1]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&jpeg[2..]);
        out
    }
}
