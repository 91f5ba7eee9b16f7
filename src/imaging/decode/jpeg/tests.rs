use super::*;
use image::{DynamicImage, ImageFormat};

fn jpeg_of(img: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn gradient(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7) as u8, (y * 5) as u8, ((x + y) * 3) as u8])
    }))
}

#[test]
fn decodes_into_a_reused_buffer_of_any_size() {
    let bytes = jpeg_of(&gradient(37, 21));
    let fresh = decode(&bytes, Vec::new(), None).unwrap().image;
    let reused = decode(&bytes, vec![0xaa; 100_000], None).unwrap().image;
    assert_eq!(fresh.dimensions(), (37, 21));
    assert_eq!(fresh, reused);
}

#[test]
fn grey_is_replicated() {
    let grey = DynamicImage::ImageLuma8(image::ImageBuffer::from_pixel(9, 4, image::Luma([77u8])));
    let rgb = decode(&jpeg_of(&grey), Vec::new(), None).unwrap().image;
    assert!(rgb.pixels().all(|p| p.0 == [77, 77, 77]));
}

#[test]
fn a_truncated_file_decodes_with_a_warning() {
    let bytes = jpeg_of(&gradient(64, 64));
    let cut = &bytes[..bytes.len() * 2 / 3];
    let decoded = decode(cut, Vec::new(), None).unwrap();
    assert_eq!(decoded.image.dimensions(), (64, 64));
    assert_eq!(
        decoded.warning.as_deref(),
        Some("Premature end of JPEG file")
    );
    assert!(decode(&bytes, Vec::new(), None).unwrap().warning.is_none());
}

#[test]
fn broken_files_are_errors_not_panics() {
    let bytes = jpeg_of(&gradient(16, 16));
    for bad in [
        &bytes[..3],
        &bytes[..40],
        &[0xff, 0xd8, 0xff, 0xc0, 0, 1][..],
    ] {
        match decode(bad, Vec::new(), None) {
            Err(DecodeError::Corrupt(msg)) => assert!(!msg.is_empty()),
            other => panic!(
                "expected an error, got {:?}",
                other.map(|d| d.image.dimensions())
            ),
        }
    }
    // The thread is still usable afterwards.
    assert!(decode(&bytes, Vec::new(), None).is_ok());
}

#[test]
fn the_pixel_cap_is_checked_from_the_header() {
    let mut bytes = jpeg_of(&gradient(8, 8));
    // Rewrite the SOF0 dimensions to 20000 x 20000 (libjpeg allows up to 65500).
    let sof = bytes.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    bytes[sof + 5..sof + 9].copy_from_slice(&[0x4e, 0x20, 0x4e, 0x20]);
    let got = decode(&bytes, Vec::new(), None).map(|d| d.image.dimensions());
    assert!(
        matches!(
            got,
            Err(DecodeError::TooLarge {
                width: 20000,
                height: 20000
            })
        ),
        "{got:?}"
    );
}

#[test]
fn simd_is_compiled_in_for_ci() {
    // CI installs nasm; a build without it would silently be slower.
    if std::env::var_os("CI").is_some() && cfg!(any(target_arch = "x86_64", target_arch = "x86")) {
        assert!(
            simd_in_use(),
            "libjpeg-turbo was built without SIMD: install nasm, then `cargo clean -p mozjpeg-sys`"
        );
    }
}

#[test]
fn a_reduction_decodes_at_the_chosen_dct_scale() {
    // 1000x600, resize_short 128 (kept twice that, 256): / 2 = 300 ≥ 256,
    // / 4 = 150 < 256.
    let bytes = jpeg_of(&gradient(1000, 600));
    let full = decode(&bytes, Vec::new(), None).unwrap();
    assert_eq!(
        (full.image.dimensions(), full.scale),
        ((1000, 600), Scale::FULL)
    );
    let half = decode(&bytes, Vec::new(), Some(MinSize::Short(128))).unwrap();
    assert_eq!(half.scale.denominator(), 2);
    assert_eq!(half.image.dimensions(), (500, 300));
    // Odd sizes round up; a 1/8 decode still looks like the image.
    let smooth = DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(1001, 603, |x, y| {
        image::Rgb([(x / 4) as u8, (y * 2 / 5) as u8, 128])
    }));
    let bytes = jpeg_of(&smooth);
    let eighth = decode(&bytes, vec![0xaa; 7], Some(MinSize::Each(50, 35))).unwrap();
    assert_eq!(eighth.scale.denominator(), 8);
    assert_eq!(eighth.image.dimensions(), (126, 76));
    let full = decode(&bytes, Vec::new(), None).unwrap().image;
    let (a, b) = (eighth.image.get_pixel(60, 40).0, full.get_pixel(484, 324).0);
    for c in 0..3 {
        assert!(a[c].abs_diff(b[c]) <= 12, "{a:?} vs {b:?}");
    }
    // Too small for any reduction: full size, the exact pixels.
    let small = decode(&bytes, Vec::new(), Some(MinSize::Short(600))).unwrap();
    assert_eq!(small.scale, Scale::FULL);
    assert_eq!(small.image, full);
}
