//! The marker segments of a JPEG header, before the first scan: what the
//! EXIF reader and the serving size probe both walk.

/// Each `(marker, payload)` after SOI up to the first SOS or EOI. Fill bytes
/// and the standalone markers (TEM, RSTn) are skipped; a length under 2
/// counts as 2 (an empty payload). Ends early on truncated data.
pub(crate) fn header_segments(bytes: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let mut pos = 2; // after SOI
    std::iter::from_fn(move || loop {
        if *bytes.get(pos)? != 0xff {
            return None;
        }
        let marker = *bytes.get(pos + 1)?;
        match marker {
            // Fill bytes before a marker.
            0xff => pos += 1,
            // Markers without a length.
            0x01 | 0xd0..=0xd7 => pos += 2,
            // Start of scan or end of image: no more headers.
            0xda | 0xd9 => return None,
            _ => {
                let len = usize::from(u16::from_be_bytes([
                    *bytes.get(pos + 2)?,
                    *bytes.get(pos + 3)?,
                ]))
                .max(2);
                let data = bytes.get(pos + 4..pos + 2 + len)?;
                pos += 2 + len;
                return Some((marker, data));
            }
        }
    })
}
