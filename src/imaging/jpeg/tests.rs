use super::*;

fn photo(name: &str) -> image::RgbImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/photos")
        .join(name);
    image::open(path).unwrap().to_rgb8()
}

fn decode(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8()
}

/// Peak signal-to-noise ratio in dB.
fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sq: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = sq / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

fn gradient(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 3).min(255) as u8,
            (y * 3).min(255) as u8,
            (x + y).min(255) as u8,
        ])
    })
}

#[test]
fn photos_decode_close_to_the_original() {
    for name in ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"] {
        let img = photo(name);
        let bytes = encode(img.as_raw(), img.width(), img.height(), 75).unwrap();
        let back = decode(&bytes);
        let quality = psnr(&img, &back);
        // libjpeg at quality 75 gives 30-36 dB on these photos.
        assert!(quality > 30.0, "{name}: {quality:.1} dB");
    }
}

#[test]
fn odd_sizes_and_edges_round_trip() {
    for (w, h) in [
        (1, 1),
        (2, 2),
        (7, 5),
        (16, 16),
        (17, 33),
        (33, 17),
        (250, 3),
        (60, 60),
    ] {
        let img = gradient(w, h);
        let bytes = encode(img.as_raw(), w, h, 90).unwrap();
        let back = decode(&bytes);
        assert_eq!(back.dimensions(), (w, h));
        let worst = img
            .as_raw()
            .iter()
            .zip(back.as_raw())
            .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
            .max()
            .unwrap();
        // Gentle ramps: small errors at any size, padding included.
        assert!(worst < 16, "{w}x{h}: worst error {worst}");
    }
}

#[test]
fn a_flat_colour_comes_back_exactly() {
    let img = image::RgbImage::from_pixel(40, 24, image::Rgb([200, 30, 90]));
    let back = decode(&encode(img.as_raw(), 40, 24, 75).unwrap());
    for px in back.pixels() {
        for (got, want) in px.0.iter().zip([200u8, 30, 90]) {
            assert!((i32::from(*got) - i32::from(want)).abs() <= 2, "{px:?}");
        }
    }
}

#[test]
fn rows_encoded_in_pieces_equal_the_whole() {
    let img = photo("chelsea.png");
    let (w, h) = img.dimensions();
    let whole = encode(img.as_raw(), w, h, 75).unwrap();
    let layout = JpegLayout::new(w, h, 75).unwrap();
    let split = 3 * MCU_LINES;
    let at = (split * w * 3) as usize;
    let (mut top, mut rest) = (Vec::new(), Vec::new());
    // The lower rows first: the order of encoding does not matter.
    layout.encode_rows(&img.as_raw()[at..], split, &mut rest);
    layout.header(&mut top);
    layout.encode_rows(&img.as_raw()[..at], 0, &mut top);
    top.extend_from_slice(&rest);
    trailer(&mut top);
    assert_eq!(top, whole);
}

#[test]
fn restart_markers_follow_every_mcu_row() {
    let img = gradient(50, 100);
    let bytes = encode(img.as_raw(), 50, 100, 75).unwrap();
    let scan_start = bytes.windows(2).position(|m| m == [0xFF, 0xDA]).unwrap();
    let markers: Vec<u8> = bytes[scan_start + 2..]
        .windows(2)
        .filter(|m| m[0] == 0xFF && (0xD0..=0xD9).contains(&m[1]))
        .map(|m| m[1])
        .collect();
    // 100 lines: 7 MCU rows, 6 restarts, then EOI.
    assert_eq!(markers, [0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD9]);
}

#[test]
fn quality_scales_like_libjpeg() {
    // Quality 75 halves the base tables: 16 → 8, 99 → 50 (rounded up).
    assert_eq!(scaled_table(&LUMA_QUANT, 75)[0], 8);
    assert_eq!(scaled_table(&CHROMA_QUANT, 75)[63], 50);
    assert_eq!(scaled_table(&LUMA_QUANT, 100), [1; 64]);
    assert_eq!(scaled_table(&CHROMA_QUANT, 1)[63], 255);
}

#[test]
fn sizes_jpeg_cannot_hold_are_refused() {
    assert!(matches!(
        JpegLayout::new(70_000, 10, 75),
        Err(JpegError::TooLarge(70_000, 10))
    ));
    assert!(matches!(JpegLayout::new(0, 10, 75), Err(JpegError::Empty)));
}

#[test]
fn buffers_of_the_wrong_length_are_refused_and_extra_lines_ignored() {
    assert!(matches!(
        encode(&[0; 16 * 15 * 3], 16, 16, 75),
        Err(JpegError::WrongLength {
            expected: 768,
            got: 720
        })
    ));
    let layout = JpegLayout::new(16, 16, 75).unwrap();
    let (mut exact, mut long) = (Vec::new(), Vec::new());
    layout.encode_rows(&[100; 16 * 16 * 3], 0, &mut exact);
    layout.encode_rows(&[100; 16 * 40 * 3], 0, &mut long);
    assert_eq!(exact, long);
}

#[test]
fn the_portable_path_writes_the_same_bytes() {
    let img = photo("coffee.png");
    let (w, h) = img.dimensions();
    let layout = JpegLayout::new(w, h, 75).unwrap();
    let (mut dispatched, mut portable) = (Vec::new(), Vec::new());
    layout.encode_rows(img.as_raw(), 0, &mut dispatched);
    layout.encode_rows_with(Portable, img.as_raw(), 0, &mut portable);
    assert_eq!(dispatched, portable);
}
