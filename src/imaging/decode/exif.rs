//! The EXIF orientation of a JPEG file, read from its first `Exif` APP1
//! segment before the image data, as OpenCV reads it for `imread`.

use image::metadata::Orientation;

use super::jpeg_markers::header_segments;

/// The orientation recorded in the file's EXIF data, if there is one.
pub(crate) fn jpeg_orientation(bytes: &[u8]) -> Option<Orientation> {
    exif_payload(bytes).and_then(Orientation::from_exif_chunk)
}

/// The TIFF data of the first APP1 segment that starts with `Exif\0\0`,
/// looking only at the markers before the first scan.
fn exif_payload(bytes: &[u8]) -> Option<&[u8]> {
    header_segments(bytes)
        .filter(|&(marker, _)| marker == 0xe1)
        .find_map(|(_, data)| data.strip_prefix(b"Exif\0\0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_orientation_after_other_segments() {
        let tiff: &[u8] = &[
            b'M', b'M', 0, 42, 0, 0, 0, 8, // big-endian header, IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // orientation SHORT 6
            0, 0, 0, 0, // no next IFD
        ];
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 0, 4, 1, 2]; // SOI, a short APP0
        jpeg.extend_from_slice(&[0xff, 0xe1]);
        jpeg.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        jpeg.extend_from_slice(b"Exif\0\0");
        jpeg.extend_from_slice(tiff);
        jpeg.extend_from_slice(&[0xff, 0xda, 0, 2]);
        assert_eq!(jpeg_orientation(&jpeg), Some(Orientation::Rotate90));
    }

    #[test]
    fn stops_at_the_scan_and_at_bad_lengths() {
        assert_eq!(jpeg_orientation(&[0xff, 0xd8, 0xff, 0xda, 0, 2]), None);
        assert_eq!(jpeg_orientation(&[0xff, 0xd8, 0xff, 0xe1, 0x40, 0]), None);
        assert_eq!(jpeg_orientation(&[0xff, 0xd8]), None);
    }
}
