//! What decoding an image will cost, read from its header before any pixel
//! is decoded: its size (checked against the serving pixel cap) and an
//! estimate of the memory its decoding and visualisation hold, which the
//! request reserves from the decode budget first.

use image::ImageDecoder;

use crate::imaging::decode::jpeg::is_jpeg;
use crate::imaging::decode::jpeg_markers::header_segments;
use crate::imaging::decode::open_decoder;

/// The declared size and sample layout of an encoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
    /// Bytes per pixel of the decoder's own output (before the RGB8 copy).
    pub(crate) bytes_per_pixel: u64,
}

impl Header {
    /// Width × height.
    pub(crate) fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Bytes held at the peak of decoding (the decoder's buffer and the RGB8
    /// image), plus the drawn copy when the visualisation is returned.
    pub(crate) fn decode_cost(&self, visualize: bool) -> u64 {
        let rgb = 3;
        let per_pixel = self.bytes_per_pixel.max(rgb) + rgb + if visualize { rgb } else { 0 };
        self.pixels().saturating_mul(per_pixel)
    }
}

/// The header of `bytes`, or `None` when it cannot be read (the decoder then
/// reports why, before allocating any pixels).
pub(crate) fn probe(bytes: &[u8]) -> Option<Header> {
    if is_jpeg(bytes) {
        // libjpeg-turbo decodes straight to RGB (CMYK through 4 bytes).
        let (width, height) = jpeg_size(bytes)?;
        return Some(Header {
            width,
            height,
            bytes_per_pixel: 4,
        });
    }
    // The decoder's own opening (and limits), so that the header is read
    // exactly when the decoder would read it; the serving cap is applied to
    // the size it declares.
    let decoder = open_decoder(bytes).ok()?;
    let (width, height) = decoder.dimensions();
    Some(Header {
        width,
        height,
        bytes_per_pixel: u64::from(decoder.color_type().bytes_per_pixel()),
    })
}

/// The frame size in a JPEG's start-of-frame segment.
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let is_frame = |m: u8| matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC);
    let (_, frame) = header_segments(bytes).find(|&(marker, _)| is_frame(marker))?;
    // Precision (1), height (2), width (2).
    let height = u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?]);
    let width = u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?]);
    Some((u32::from(width), u32::from(height)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{DynamicImage, ImageFormat, RgbImage, Rgba};
    use std::io::Cursor;

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn sizes_come_from_the_header() {
        let rgb = DynamicImage::ImageRgb8(RgbImage::new(7, 5));
        let jpeg = encode(&rgb, ImageFormat::Jpeg);
        let header = probe(&jpeg).unwrap();
        assert_eq!((header.width, header.height), (7, 5));
        let png = encode(&rgb, ImageFormat::Png);
        assert_eq!(
            probe(&png),
            Some(Header {
                width: 7,
                height: 5,
                bytes_per_pixel: 3
            })
        );
        let rgba16 =
            DynamicImage::ImageRgba16(image::ImageBuffer::from_pixel(3, 2, Rgba([1u16, 2, 3, 4])));
        let header = probe(&encode(&rgba16, ImageFormat::Png)).unwrap();
        assert_eq!(header.bytes_per_pixel, 8);
        assert_eq!(header.decode_cost(false), 6 * (8 + 3));
        assert_eq!(header.decode_cost(true), 6 * (8 + 3 + 3));
        assert_eq!(probe(b"not an image"), None);
        assert_eq!(probe(&jpeg[..4]), None);
    }

    #[test]
    fn a_declared_size_is_read_without_decoding() {
        // A PNG header declaring 13000 x 13000 and no pixel data.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&13000u32.to_be_bytes());
        png.extend_from_slice(&13000u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        let crc = crc32(&png[12..]);
        png.extend_from_slice(&crc.to_be_bytes());
        // An empty IDAT chunk: the header reader stops at the first one.
        png.extend_from_slice(b"\0\0\0\0IDAT");
        png.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        let header = probe(&png).unwrap();
        assert_eq!(header.pixels(), 169_000_000);
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
