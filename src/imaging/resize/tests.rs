//! Tests for the resize module.
//!
//! The golden outputs in `tests/data/resize/cases.txt` were produced by real
//! `cv2.resize` (opencv-python-headless 4.10.0) and `PIL.Image.resize`
//! (Pillow 13) with `tests/data/resize/generate.py`; the inputs are rebuilt
//! here from the same deterministic patterns.

use super::*;

/// Golden cases, one per line (format documented in generate.py).
const CASES: &str = include_str!("../../../tests/data/resize/cases.txt");

/// 64-bit LCG with Knuth's MMIX constants, emitting the top byte of each
/// state; must match `lcg_bytes` in generate.py.
fn lcg_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// The test input for `pattern` (see `make_image` in generate.py).
fn make_image(pattern: &str, seed: u64, w: u32, h: u32) -> RgbImage {
    let n = (w * h * 3) as usize;
    let data = match pattern {
        "grad" => {
            let mut v = Vec::with_capacity(n);
            for y in 0..u64::from(h) {
                for x in 0..u64::from(w) {
                    for c in 0..3 {
                        v.push(((x * 37 + y * 91 + c * 53 + x * y) % 256) as u8);
                    }
                }
            }
            v
        }
        "lcg" => lcg_bytes(seed, n),
        "bin" => lcg_bytes(seed, n)
            .into_iter()
            .map(|b| if b >= 128 { 255 } else { 0 })
            .collect(),
        "white" => vec![255; n],
        other => panic!("unknown pattern {other}"),
    };
    RgbImage::from_raw(w, h, data).expect("buffer size matches")
}

/// 64-bit FNV-1a.
fn fnv64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One parsed line of cases.txt.
struct Case<'a> {
    backend: ResizeLibrary,
    interp: Interpolation,
    pattern: &'a str,
    seed: u64,
    src: (u32, u32),
    dst: (u32, u32),
    fnv: u64,
    bytes: Option<Vec<u8>>,
}

impl Case<'_> {
    fn name(&self) -> String {
        format!(
            "{} {:?} {} {}x{} -> {}x{}",
            self.backend, self.interp, self.pattern, self.src.0, self.src.1, self.dst.0, self.dst.1
        )
    }
}

fn parse_hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex byte"))
        .collect()
}

fn parse_case(line: &str) -> Case<'_> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let num = |i: usize| f[i].parse::<u32>().expect("number");
    let backend = ResizeLibrary::parse(f[0]).expect("backend");
    Case {
        backend,
        interp: Interpolation::parse(f[1], backend).expect("interpolation"),
        pattern: f[2],
        seed: f[3].parse().expect("seed"),
        src: (num(4), num(5)),
        dst: (num(6), num(7)),
        fnv: u64::from_str_radix(f[8], 16).expect("hash"),
        bytes: f.get(9).map(|h| parse_hex(h)),
    }
}

/// Runs every golden case whose backend and interpolation match `filter`.
fn check_cases(filter: impl Fn(ResizeLibrary, Interpolation) -> bool) {
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in CASES.lines().filter(|l| !l.trim().is_empty()) {
        let case = parse_case(line);
        if !filter(case.backend, case.interp) {
            continue;
        }
        checked += 1;
        let img = make_image(case.pattern, case.seed, case.src.0, case.src.1);
        let out = resize(&img, case.dst.0, case.dst.1, case.backend, case.interp)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name()));
        assert_eq!(out.dimensions(), case.dst, "{}", case.name());
        let got = out.as_raw();
        if let Some(want) = &case.bytes {
            if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
                let (px, c) = (i / 3, i % 3);
                let (x, y) = (px as u32 % case.dst.0, px as u32 / case.dst.0);
                failures.push(format!(
                    "{}: first difference at ({x}, {y}) channel {c}: got {}, want {}",
                    case.name(),
                    got[i],
                    want[i]
                ));
                continue;
            }
        }
        if fnv64(got) != case.fnv {
            failures.push(format!("{}: output hash differs", case.name()));
        }
    }
    assert!(checked > 0, "no golden cases selected");
    assert!(
        failures.is_empty(),
        "{} of {checked} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_cv2_linear() {
    check_cases(|b, i| b == ResizeLibrary::Cv2 && i == Interpolation::Linear);
}

#[test]
fn golden_cv2_nearest_area_lanczos() {
    check_cases(|b, i| b == ResizeLibrary::Cv2 && i != Interpolation::Linear);
}

#[test]
fn golden_pil_bicubic() {
    check_cases(|b, i| b == ResizeLibrary::Pil && i == Interpolation::Bicubic);
}

#[test]
fn golden_pil_other_filters() {
    check_cases(|b, i| b == ResizeLibrary::Pil && i != Interpolation::Bicubic);
}

#[test]
fn golden_file_covers_every_supported_mode() {
    let cases: Vec<Case<'_>> = CASES.lines().map(parse_case).collect();
    let modes = [
        (ResizeLibrary::Cv2, Interpolation::Nearest),
        (ResizeLibrary::Cv2, Interpolation::Linear),
        (ResizeLibrary::Cv2, Interpolation::Area),
        (ResizeLibrary::Cv2, Interpolation::Lanczos),
        (ResizeLibrary::Pil, Interpolation::Nearest),
        (ResizeLibrary::Pil, Interpolation::Linear),
        (ResizeLibrary::Pil, Interpolation::Bicubic),
        (ResizeLibrary::Pil, Interpolation::Box),
        (ResizeLibrary::Pil, Interpolation::Lanczos),
    ];
    for (b, i) in modes {
        assert!(
            cases.iter().any(|c| c.backend == b && c.interp == i),
            "no golden case for {b} {i:?}"
        );
    }
}

#[test]
fn same_size_is_a_copy_for_every_mode() {
    let img = make_image("lcg", 99, 7, 5);
    for backend in [ResizeLibrary::Cv2, ResizeLibrary::Pil] {
        for &(_, interp) in backend.interpolation_names() {
            // Even modes that are otherwise unsupported are a plain copy,
            // exactly as cv2.resize / Image.resize return early.
            if let Ok(out) = resize(&img, 7, 5, backend, interp) {
                assert_eq!(out, img, "{backend} {interp:?}");
            }
        }
    }
}

#[test]
fn oversized_source_container_is_ignored() {
    // ImageBuffer accepts a container longer than its pixels.
    let img = make_image("lcg", 5, 6, 4);
    let mut data = img.as_raw().clone();
    data.extend_from_slice(&[7; 10]);
    let padded = RgbImage::from_raw(6, 4, data).expect("long enough");
    for backend in [ResizeLibrary::Cv2, ResizeLibrary::Pil] {
        for (w, h) in [(6, 4), (3, 9)] {
            let want = resize(&img, w, h, backend, Interpolation::Nearest).expect("resize");
            let got = resize(&padded, w, h, backend, Interpolation::Nearest).expect("resize");
            assert_eq!(got, want, "{backend} {w}x{h}");
        }
    }
}

#[test]
fn absurd_sizes_are_rejected() {
    let img = make_image("lcg", 1, 2, 2);
    let err = resize(
        &img,
        u32::MAX,
        u32::MAX,
        ResizeLibrary::Cv2,
        Interpolation::Linear,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ResizeError::TooLarge {
            dst_w: u32::MAX,
            dst_h: u32::MAX
        }
    );
}

#[test]
fn lcg_matches_the_python_generator() {
    // First bytes of lcg_bytes(1, 4) in generate.py.
    assert_eq!(lcg_bytes(1, 4), [0x6c, 0x82, 0xa5, 0x62]);
}

#[test]
fn zero_sizes_are_rejected() {
    let img = make_image("lcg", 1, 4, 3);
    let err = resize(&img, 0, 3, ResizeLibrary::Cv2, Interpolation::Linear).unwrap_err();
    assert!(matches!(err, ResizeError::EmptySize { dst_w: 0, .. }));
    assert!(err.to_string().contains("4x3 image to 0x3"), "{err}");
    let empty = RgbImage::new(0, 5);
    assert!(resize(&empty, 2, 2, ResizeLibrary::Pil, Interpolation::Bicubic).is_err());
}

#[test]
fn unsupported_combinations_are_errors() {
    let img = make_image("lcg", 1, 8, 8);
    let err = resize(&img, 4, 4, ResizeLibrary::Cv2, Interpolation::Bicubic).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("interpolation BICUBIC with backend cv2 is not supported yet"),
        "{err}"
    );
    let err = resize(&img, 4, 4, ResizeLibrary::Cv2, Interpolation::Box).unwrap_err();
    assert!(err.to_string().contains("BOX with backend cv2"), "{err}");
    let err = resize(&img, 4, 4, ResizeLibrary::Pil, Interpolation::Area).unwrap_err();
    assert!(err.to_string().contains("AREA with backend pil"), "{err}");
}

#[test]
fn backend_parse() {
    assert_eq!(ResizeLibrary::parse("cv2"), Ok(ResizeLibrary::Cv2));
    assert_eq!(ResizeLibrary::parse("PIL"), Ok(ResizeLibrary::Pil));
    let err = ResizeLibrary::parse("skimage").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown resize backend \"skimage\"; expected one of: cv2, pil"
    );
}

#[test]
fn interpolation_parse_is_case_insensitive() {
    use Interpolation::*;
    for (name, want) in [
        ("NEAREST", Nearest),
        ("linear", Linear),
        ("Bicubic", Bicubic),
        ("area", Area),
        ("LANCZOS4", Lanczos),
    ] {
        assert_eq!(
            Interpolation::parse(name, ResizeLibrary::Cv2),
            Ok(want),
            "{name}"
        );
    }
    for (name, want) in [
        ("nearest", Nearest),
        ("BILINEAR", Linear),
        ("bicubic", Bicubic),
        ("Box", Box),
        ("lanczos4", Lanczos),
    ] {
        assert_eq!(
            Interpolation::parse(name, ResizeLibrary::Pil),
            Ok(want),
            "{name}"
        );
    }
}

#[test]
fn interpolation_parse_rejects_names_of_the_other_backend() {
    let err = Interpolation::parse("bilinear", ResizeLibrary::Cv2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown interpolation \"bilinear\" for backend cv2; \
         expected one of: NEAREST, LINEAR, BICUBIC, AREA, LANCZOS4"
    );
    let err = Interpolation::parse("AREA", ResizeLibrary::Pil).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown interpolation \"AREA\" for backend pil; \
         expected one of: NEAREST, BILINEAR, BICUBIC, BOX, LANCZOS4"
    );
    // PaddleX only knows LANCZOS4, not Pillow's own spelling.
    assert!(Interpolation::parse("LANCZOS", ResizeLibrary::Pil).is_err());
    assert!(Interpolation::parse("", ResizeLibrary::Cv2).is_err());
}

/// Timing of the hot path: `cargo test --release -- --ignored --nocapture resize_timing`.
#[test]
#[ignore = "timing only; run in release mode"]
fn resize_timing() {
    let img = make_image("grad", 0, 4000, 3000);
    let cases = [
        (ResizeLibrary::Cv2, Interpolation::Linear, 341, 256),
        (ResizeLibrary::Cv2, Interpolation::Area, 341, 256),
        (ResizeLibrary::Cv2, Interpolation::Nearest, 341, 256),
        (ResizeLibrary::Cv2, Interpolation::Lanczos, 341, 256),
        (ResizeLibrary::Pil, Interpolation::Bicubic, 341, 256),
        (ResizeLibrary::Pil, Interpolation::Linear, 341, 256),
        (ResizeLibrary::Cv2, Interpolation::Linear, 2000, 1500),
        (ResizeLibrary::Cv2, Interpolation::Linear, 1333, 1000),
        (ResizeLibrary::Pil, Interpolation::Bicubic, 1333, 1000),
    ];
    for (backend, interp, w, h) in cases {
        let mut best = f64::INFINITY;
        for _ in 0..15 {
            let t = std::time::Instant::now();
            let out = resize(&img, w, h, backend, interp).expect("resize");
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(out);
        }
        println!("{backend} {interp:?} 4000x3000 -> {w}x{h}: {best:.2} ms (best of 15)");
    }
}

#[test]
fn a_window_is_exactly_a_crop_of_the_whole_resize() {
    let cases = [
        (
            ResizeLibrary::Cv2,
            Interpolation::Linear,
            341,
            256,
            256,
            192,
        ),
        (
            ResizeLibrary::Cv2,
            Interpolation::Linear,
            500,
            333,
            384,
            256,
        ),
        (ResizeLibrary::Cv2, Interpolation::Linear, 120, 90, 341, 256),
        (
            ResizeLibrary::Cv2,
            Interpolation::Linear,
            512,
            384,
            256,
            192,
        ),
        (ResizeLibrary::Cv2, Interpolation::Area, 400, 300, 256, 192),
        (
            ResizeLibrary::Pil,
            Interpolation::Bicubic,
            300,
            200,
            150,
            100,
        ),
    ];
    for (i, (backend, interp, sw, sh, dw, dh)) in cases.into_iter().enumerate() {
        let src = make_image("lcg", i as u64, sw, sh);
        let full = resize(&src, dw, dh, backend, interp).unwrap();
        for window in [
            Window {
                x: (dw as usize - 100) / 2,
                y: (dh as usize - 80) / 2,
                w: 100,
                h: 80,
            },
            Window {
                x: 0,
                y: 0,
                w: dw as usize,
                h: dh as usize,
            },
            Window {
                x: dw as usize - 1,
                y: dh as usize - 3,
                w: 1,
                h: 3,
            },
        ] {
            let part = resize_window(&src, dw, dh, window, backend, interp).unwrap();
            let crop = image::imageops::crop_imm(
                &full,
                window.x as u32,
                window.y as u32,
                window.w as u32,
                window.h as u32,
            )
            .to_image();
            assert_eq!(
                part, crop,
                "{backend:?} {interp:?} {sw}x{sh}->{dw}x{dh} {window:?}"
            );
        }
    }
    let src = make_image("lcg", 9, 40, 30);
    let outside = Window {
        x: 30,
        y: 0,
        w: 20,
        h: 10,
    };
    assert!(matches!(
        resize_window(
            &src,
            40,
            30,
            outside,
            ResizeLibrary::Cv2,
            Interpolation::Linear
        ),
        Err(ResizeError::BadWindow { .. })
    ));
}
