//! The frames of a multi-frame TIFF, decoded under the same rules as every
//! other image ([`super::decode_bytes`]): the declared size checked against
//! [`super::MAX_PIXELS`] before any pixel is read, the same allocation limit, the
//! frame's own Orientation tag applied, and OpenCV's conversion to RGB8.

use std::io::{Read, Seek, SeekFrom};

use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer};
use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::ColorType;

use super::{to_rgb8_like_opencv, DecodeError, MAX_ALLOC_BYTES};

/// A TIFF decoder over `reader` with the allocation limit of other images.
fn open<R: Read + Seek>(mut reader: R) -> Result<Decoder<R>, DecodeError> {
    let len = reader
        .seek(SeekFrom::End(0))
        .and_then(|len| reader.rewind().map(|()| len))
        .map_err(|e| DecodeError::Io(e.to_string()))?;
    if len == 0 {
        return Err(DecodeError::Empty);
    }
    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(MAX_ALLOC_BYTES).unwrap_or(usize::MAX);
    let decoder = Decoder::new(reader).map_err(corrupt)?;
    Ok(decoder.with_limits(limits))
}

/// The number of frames (1 for a plain TIFF).
pub(crate) fn frame_count(reader: impl Read + Seek) -> Result<usize, DecodeError> {
    let mut decoder = open(reader)?;
    let mut count = 1;
    while decoder.more_images() {
        decoder.next_image().map_err(corrupt)?;
        count += 1;
    }
    Ok(count)
}

/// Decodes frame `index` to RGB8.
pub(crate) fn decode_frame(
    reader: impl Read + Seek,
    index: usize,
) -> Result<image::RgbImage, DecodeError> {
    let mut decoder = open(reader)?;
    if index > 0 {
        decoder.seek_to_image(index).map_err(corrupt)?;
    }
    let (width, height) = decoder.dimensions().map_err(corrupt)?;
    super::check_dimensions(width, height)?;
    // As the image crate reads a single-frame TIFF's orientation.
    let orientation = decoder
        .find_tag(Tag::Orientation)
        .ok()
        .flatten()
        .and_then(|v| Orientation::from_exif(v.into_u16().ok()?.min(255) as u8))
        .unwrap_or(Orientation::NoTransforms);
    let colortype = decoder.colortype().map_err(corrupt)?;
    let data = decoder.read_image().map_err(corrupt)?;
    let mut img = to_dynamic(width, height, colortype, data)?;
    img.apply_orientation(orientation);
    Ok(to_rgb8_like_opencv(img))
}

/// A frame's samples as an image of the matching pixel type.
fn to_dynamic(
    w: u32,
    h: u32,
    colortype: ColorType,
    data: DecodingResult,
) -> Result<DynamicImage, DecodeError> {
    let wrong_size = || DecodeError::Corrupt("the TIFF frame has an unexpected size".into());
    let unsupported = || DecodeError::Corrupt(format!("unsupported TIFF frame ({colortype:?})"));
    let img = match (colortype, data) {
        (ColorType::Gray(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageLuma8(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::GrayA(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageLumaA8(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::RGB(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::RGBA(8), DecodingResult::U8(v)) => {
            DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::Gray(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageLuma16(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::GrayA(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageLumaA16(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::RGB(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageRgb16(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        (ColorType::RGBA(16), DecodingResult::U16(v)) => {
            DynamicImage::ImageRgba16(ImageBuffer::from_raw(w, h, v).ok_or_else(wrong_size)?)
        }
        _ => return Err(unsupported()),
    };
    Ok(img)
}

fn corrupt(err: tiff::TiffError) -> DecodeError {
    match err {
        tiff::TiffError::LimitsExceeded => {
            DecodeError::Corrupt("limit exceeded: the TIFF frame needs too much memory".into())
        }
        tiff::TiffError::UnsupportedError(e) => {
            DecodeError::Corrupt(format!("unsupported TIFF feature: {e}"))
        }
        other => DecodeError::Corrupt(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tiff::encoder::{colortype, TiffEncoder};

    /// A TIFF with one frame per `(width, height, rgb)`.
    fn tiff_of(frames: &[(u32, u32, [u8; 3])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap();
            for &(w, h, rgb) in frames {
                let data: Vec<u8> = (0..w * h).flat_map(|_| rgb).collect();
                enc.write_image::<colortype::RGB8>(w, h, &data).unwrap();
            }
        }
        out.into_inner()
    }

    /// A TIFF whose second frame has the Orientation tag `orientation`.
    fn with_orientation(orientation: u16) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap();
            enc.write_image::<colortype::RGB8>(1, 1, &[0, 0, 0])
                .unwrap();
            let mut img = enc.new_image::<colortype::RGB8>(3, 2).unwrap();
            img.encoder()
                .write_tag(Tag::Orientation, orientation)
                .unwrap();
            // Red top-left, the rest white.
            let mut data = vec![255u8; 3 * 2 * 3];
            data[1] = 0;
            data[2] = 0;
            img.write_data(&data).unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn frames_follow_the_orientation_tag() {
        let bytes = with_orientation(6);
        assert_eq!(frame_count(Cursor::new(&bytes)).unwrap(), 2);
        let frame = decode_frame(Cursor::new(&bytes), 1).unwrap();
        // Rotated 90° clockwise: 3x2 becomes 2x3, the red pixel top-right.
        assert_eq!(frame.dimensions(), (2, 3));
        assert_eq!(frame.get_pixel(1, 0).0, [255, 0, 0]);
        let plain = decode_frame(Cursor::new(&with_orientation(1)), 1).unwrap();
        assert_eq!(plain.dimensions(), (3, 2));
        assert_eq!(plain.get_pixel(0, 0).0, [255, 0, 0]);
    }

    #[test]
    fn a_frame_over_the_pixel_cap_is_refused_before_decoding() {
        let mut bytes = tiff_of(&[(1, 1, [1, 2, 3]), (4, 4, [9, 9, 9])]);
        assert_eq!(
            decode_frame(Cursor::new(&bytes), 1).unwrap().dimensions(),
            (4, 4)
        );
        // Declare the second frame 20000 x 20000: its ImageWidth and
        // ImageLength entries (SHORT or LONG, little-endian) are rewritten.
        patch_dimensions(&mut bytes, 1, 20_000, 20_000);
        assert!(matches!(
            decode_frame(Cursor::new(&bytes), 1),
            Err(DecodeError::TooLarge {
                width: 20_000,
                height: 20_000
            })
        ));
        assert_eq!(
            decode_frame(Cursor::new(&bytes), 0)
                .unwrap()
                .get_pixel(0, 0)
                .0,
            [1, 2, 3]
        );
    }

    #[test]
    fn broken_frames_are_errors() {
        let bytes = tiff_of(&[(2, 2, [1, 2, 3]), (2, 2, [4, 5, 6])]);
        assert!(matches!(
            decode_frame(Cursor::new(&bytes), 5),
            Err(DecodeError::Corrupt(_))
        ));
        assert!(matches!(
            frame_count(Cursor::new(Vec::<u8>::new())),
            Err(DecodeError::Empty)
        ));
        assert!(decode_frame(Cursor::new(&bytes[..bytes.len() / 2]), 1).is_err());
    }

    /// Rewrites ImageWidth/ImageLength of IFD number `ifd` (little-endian file).
    fn patch_dimensions(bytes: &mut [u8], ifd: usize, width: u32, height: u32) {
        let u16_at = |b: &[u8], p: usize| u16::from_le_bytes([b[p], b[p + 1]]);
        let u32_at = |b: &[u8], p: usize| u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]);
        assert_eq!(&bytes[..2], b"II");
        let mut offset = u32_at(bytes, 4) as usize;
        for _ in 0..ifd {
            let n = u16_at(bytes, offset) as usize;
            offset = u32_at(bytes, offset + 2 + n * 12) as usize;
        }
        let n = u16_at(bytes, offset) as usize;
        for i in 0..n {
            let entry = offset + 2 + i * 12;
            let value = match u16_at(bytes, entry) {
                256 => width,
                257 => height,
                _ => continue,
            };
            // Stored as LONG so that values over 65535 fit.
            bytes[entry + 2..entry + 4].copy_from_slice(&4u16.to_le_bytes());
            bytes[entry + 4..entry + 8].copy_from_slice(&1u32.to_le_bytes());
            bytes[entry + 8..entry + 12].copy_from_slice(&value.to_le_bytes());
        }
    }
}
