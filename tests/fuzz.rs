//! Fuzzing on stable Rust: a deterministic mutation run (bit flips,
//! truncations, header field and number edits, spliced, repeated and
//! deleted chunks; a seeded generator) over every decoder (JPEG, PNG, TIFF
//! with its frames, BMP, WebP, PNM, PDF), the pipeline YAML and
//! `--hpi_config` parsers, `inference.yml` with the preprocessing built from
//! it, and the pickle and legacy PyTorch readers.
//!
//! Every mutant must give a result or an error: no panic. Each target runs
//! in a child process (this test binary again) under `ulimit -v`, so an
//! allocation beyond the limits (an abort) or a stack overflow fails the
//! test and names the case, as does a child that runs too long.
//!
//! `PADDLEX_RS_FUZZ_CASES=<n>` sets the mutants per seed (default 150: the
//! whole file takes well under a minute in a debug build);
//! `PADDLEX_RS_FUZZ_SEED=<n>` changes the generator's seed;
//! `PADDLEX_RS_FUZZ_DUMP=<dir>` writes each case to `<dir>/<target>-current`
//! before running it (the bytes of a case that aborted).

mod common;

use common::{crc32, pdf_from_objects};

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat};

use paddlex::imaging::decode::{decode_bytes, MAX_PIXELS};
use paddlex::imaging::preprocess::Preprocessor;
use paddlex::input::document::{decode_tiff_frame, tiff_frame_count, PdfDocument};

/// Set in the child: the target to run.
const TARGET_ENV: &str = "PADDLEX_RS_FUZZ_TARGET";

/// Address space of a child, in KiB: room for the largest image allowed
/// (13k x 13k, decoded as 16-bit RGBA and converted) and little more.
const ADDRESS_SPACE_KIB: u64 = 4 * 1024 * 1024;

/// Wall-clock limit of a child.
const CHILD_TIME: Duration = Duration::from_secs(300);

fn cases() -> usize {
    std::env::var("PADDLEX_RS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

fn base_seed() -> u64 {
    std::env::var("PADDLEX_RS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed)
}

/// A small deterministic generator (64-bit LCG, top bits).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        rng.next();
        rng
    }
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Values that tend to break size arithmetic.
const INTERESTING: [u32; 12] = [
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
];

/// Numbers written over the digits of text formats.
const NUMBERS: [&str; 10] = [
    "0",
    "-1",
    "1",
    "65535",
    "65536",
    "99999999",
    "4294967296",
    "-2147483649",
    "1e309",
    "0.000001",
];

/// One seed: valid bytes and the offsets of its header fields (sizes,
/// lengths), edited more often than random bytes.
struct Seed {
    bytes: Vec<u8>,
    fields: Vec<usize>,
}

impl Seed {
    fn new(bytes: Vec<u8>, fields: Vec<usize>) -> Self {
        Seed { bytes, fields }
    }
    fn plain(bytes: Vec<u8>) -> Self {
        Seed::new(bytes, Vec::new())
    }
}

/// A mutant of `seed`: one to three edits, with chunks spliced from any seed.
fn mutate(seed: &Seed, all: &[Seed], rng: &mut Rng) -> Vec<u8> {
    let mut out = seed.bytes.clone();
    for _ in 0..1 + rng.below(3) {
        if out.is_empty() {
            out = seed.bytes.clone();
        }
        let len = out.len();
        match rng.below(8) {
            0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.truncate(rng.below(len)),
            2 => {
                // A header field (or a byte of the first 64) set to an
                // interesting value, little- or big-endian, 1 to 4 bytes.
                let at = if seed.fields.is_empty() || rng.below(4) == 0 {
                    rng.below(len.min(64))
                } else {
                    seed.fields[rng.below(seed.fields.len())]
                };
                let value = INTERESTING[rng.below(INTERESTING.len())];
                let width = [1, 2, 4][rng.below(3)];
                let bytes = if rng.below(2) == 0 {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                };
                let bytes = if bytes[0] == 0 && width < 4 && rng.below(2) == 0 {
                    &bytes[4 - width..]
                } else {
                    &bytes[..width]
                };
                for (k, b) in bytes.iter().enumerate() {
                    if let Some(slot) = out.get_mut(at + k) {
                        *slot = *b;
                    }
                }
            }
            3 => {
                // Splice: a chunk of any seed written over a random place.
                let donor = &all[rng.below(all.len())].bytes;
                if donor.is_empty() {
                    continue;
                }
                let from = rng.below(donor.len());
                let n = 1 + rng.below((donor.len() - from).min(256));
                let at = rng.below(len);
                let end = (at + n).min(len);
                out[at..end].copy_from_slice(&donor[from..from + (end - at)]);
            }
            4 => {
                // A chunk repeated in place (chunk and box structures).
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(512));
                let chunk = out[from..from + n].to_vec();
                let times = 1 + rng.below(4);
                for _ in 0..times {
                    out.splice(from..from, chunk.iter().copied());
                }
            }
            5 => {
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(256));
                out.drain(from..from + n);
            }
            6 => {
                // A run of ASCII digits replaced by another number.
                let start = rng.below(len);
                if let Some(i) = (start..len).find(|&i| out[i].is_ascii_digit()) {
                    let end = (i..len).find(|&j| !out[j].is_ascii_digit()).unwrap_or(len);
                    let number = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
                    out.splice(i..end, number.iter().copied());
                }
            }
            _ => {
                let i = rng.below(len);
                out[i] = INTERESTING[rng.below(INTERESTING.len())] as u8;
            }
        }
    }
    out
}

/// Runs `check` on the seeds (each must pass: a target that refuses its
/// seeds tests nothing) and on `cases()` mutants of each, printing each
/// case to stderr first, so that a crash names it.
fn fuzz(target: &str, seeds: &[Seed], check: impl Fn(&[u8]) -> bool) {
    for (i, seed) in seeds.iter().enumerate() {
        assert!(check(&seed.bytes), "{target}: seed {i} is not accepted");
    }
    let mut rng = Rng::new(base_seed() ^ target.bytes().map(u64::from).sum::<u64>());
    let mut accepted = 0;
    for (i, seed) in seeds.iter().enumerate() {
        for case in 0..cases() {
            let mutant = mutate(seed, seeds, &mut rng);
            eprintln!(
                "case {target} seed {i} mutant {case} ({} bytes)",
                mutant.len()
            );
            if let Some(dir) = std::env::var_os("PADDLEX_RS_FUZZ_DUMP") {
                // An abort cannot be caught: the bytes are written first.
                let _ = std::fs::write(Path::new(&dir).join(format!("{target}-current")), &mutant);
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| check(&mutant)));
            if outcome.as_ref().is_ok_and(|ok| *ok) {
                accepted += 1;
            }
            if outcome.is_err() {
                let dump = std::env::temp_dir().join(format!("paddlex-fuzz-{target}-{i}-{case}"));
                let _ = std::fs::write(&dump, &mutant);
                panic!(
                    "{target}: seed {i} mutant {case} panicked (bytes in {})",
                    dump.display()
                );
            }
        }
    }
    let total = seeds.len() * cases();
    eprintln!("{target}: {accepted} of {total} mutants accepted");
    // Mutants that still parse reach the code after the parser.
    assert!(
        total < 20 || accepted > 0,
        "{target}: every mutant was refused"
    );
}

// ---------------------------------------------------------------- seeds

fn gradient(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 19) as u8, (y * 31) as u8, (x * y) as u8])
    })
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode seed");
    out.into_inner()
}

/// Offsets of the SOF height and width of a JPEG.
fn jpeg_fields(bytes: &[u8]) -> Vec<usize> {
    let sof = bytes
        .windows(2)
        .position(|w| w[0] == 0xff && matches!(w[1], 0xc0..=0xc2))
        .unwrap_or(0);
    vec![sof + 2, sof + 5, sof + 7, sof + 9]
}

/// An APP1 Exif segment with the orientation tag, after SOI.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn jpeg_seeds() -> Vec<Seed> {
    let rgb = encode(
        &DynamicImage::ImageRgb8(gradient(37, 21)),
        ImageFormat::Jpeg,
    );
    let grey = encode(
        &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(gradient(16, 9)).to_luma8()),
        ImageFormat::Jpeg,
    );
    let rotated = with_exif_orientation(&rgb, 6);
    [rgb, grey, rotated]
        .into_iter()
        .map(|b| {
            let fields = jpeg_fields(&b);
            Seed::new(b, fields)
        })
        .collect()
}

fn png_seeds() -> Vec<Seed> {
    // IHDR width and height, bit depth and colour type; the first IDAT length.
    let fields = |b: &[u8]| {
        let idat = b.windows(4).position(|w| w == b"IDAT").unwrap_or(37);
        vec![16, 20, 24, 25, idat - 4]
    };
    let rgb16 = image::ImageBuffer::from_fn(9, 7, |x, y| {
        image::Rgb([x as u16 * 7000, y as u16 * 9000, 0x1234u16])
    });
    [
        encode(&DynamicImage::ImageRgb8(gradient(23, 11)), ImageFormat::Png),
        encode(
            &DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(gradient(5, 5)).to_rgba8()),
            ImageFormat::Png,
        ),
        encode(&DynamicImage::ImageRgb16(rgb16), ImageFormat::Png),
        encode(
            &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(gradient(8, 3)).to_luma8()),
            ImageFormat::Png,
        ),
    ]
    .into_iter()
    .map(|b| {
        let f = fields(&b);
        Seed::new(b, f)
    })
    .collect()
}

fn bmp_seeds() -> Vec<Seed> {
    // File size, pixel offset, header size, width, height, bit count, compression.
    let fields = vec![2, 10, 14, 18, 22, 28, 30, 34];
    [
        encode(&DynamicImage::ImageRgb8(gradient(13, 7)), ImageFormat::Bmp),
        encode(
            &DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(gradient(4, 6)).to_rgba8()),
            ImageFormat::Bmp,
        ),
    ]
    .into_iter()
    .map(|b| Seed::new(b, fields.clone()))
    .collect()
}

fn webp_seeds() -> Vec<Seed> {
    // RIFF size, chunk size, the VP8L size bits.
    let fields = vec![4, 16, 21, 22, 23, 24];
    let lossless = |img: DynamicImage| {
        let mut out = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut out)
            .encode(
                img.as_bytes(),
                img.width(),
                img.height(),
                img.color().into(),
            )
            .expect("webp seed");
        Seed::new(out, fields.clone())
    };
    vec![
        lossless(DynamicImage::ImageRgb8(gradient(17, 9))),
        lossless(DynamicImage::ImageRgba8(
            DynamicImage::ImageRgb8(gradient(6, 6)).to_rgba8(),
        )),
    ]
}

fn pnm_seeds() -> Vec<Seed> {
    let mut ppm = b"P6\n7 5\n255\n".to_vec();
    ppm.extend_from_slice(gradient(7, 5).as_raw());
    let mut pgm16 = b"P5\n3 2\n65535\n".to_vec();
    pgm16.extend((0..6u16).flat_map(|v| (v * 9000).to_be_bytes()));
    let ascii = b"P3\n2 2\n255\n255 0 0  0 255 0\n0 0 255  9 9 9\n".to_vec();
    let pbm = b"P4\n9 2\n\xff\x80\x00\x00".to_vec();
    [ppm, pgm16, ascii, pbm]
        .into_iter()
        .map(Seed::plain)
        .collect()
}

fn tiff_seeds() -> Vec<Seed> {
    let single = encode(&DynamicImage::ImageRgb8(gradient(11, 6)), ImageFormat::Tiff);
    let mut frames = Cursor::new(Vec::new());
    {
        let mut enc = tiff::encoder::TiffEncoder::new(&mut frames).expect("tiff");
        let img = gradient(6, 4);
        enc.write_image::<tiff::encoder::colortype::RGB8>(6, 4, img.as_raw())
            .expect("frame");
        enc.write_image::<tiff::encoder::colortype::Gray16>(3, 2, &[1, 2, 3, 40000, 50000, 60000])
            .expect("frame");
        enc.write_image::<tiff::encoder::colortype::RGBA8>(1, 2, &[1, 2, 3, 4, 5, 6, 7, 8])
            .expect("frame");
    }
    // The first IFD's offset, and the first entries' types, counts and values.
    let fields: Vec<usize> = (4..8).chain((10..70).step_by(2)).collect();
    vec![
        Seed::new(single, fields.clone()),
        Seed::new(frames.into_inner(), fields),
    ]
}

fn pdf_seeds() -> Vec<Seed> {
    let dir = tempfile::tempdir().expect("tempdir");
    let images = dir.path().join("images.pdf");
    common::write_pdf(&images, &[gradient(8, 6), gradient(4, 10)]);
    let drawn = simple_pdf(&[
        (
            "[0 0 30 20]",
            "0 0 1 rg 2 2 10 8 re f 1 0 0 RG 0 0 m 30 20 l S",
        ),
        (
            "[0 0 12 12]",
            "q 0.5 0 0 0.5 3 3 cm 0 1 0 rg 0 0 12 12 re f Q",
        ),
        (
            "[0 0 6 4]",
            "q 6 0 0 4 0 0 cm BI /W 2 /H 2 /CS /RGB /BPC 8 /F /AHx ID ff000000ff000000ffffffff> EI Q",
        ),
    ]);
    vec![
        Seed::plain(std::fs::read(images).expect("pdf")),
        Seed::plain(drawn),
        Seed::plain(jpeg_in_pdf()),
    ]
}

/// A one-page PDF drawing a JPEG (DCTDecode) image XObject.
fn jpeg_in_pdf() -> Vec<u8> {
    let jpeg = encode(&DynamicImage::ImageRgb8(gradient(9, 5)), ImageFormat::Jpeg);
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width 9 /Height 5 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        jpeg.len()
    )
    .into_bytes();
    image.extend_from_slice(&jpeg);
    image.extend_from_slice(b"\nendstream");
    let draw = "q 9 0 0 5 0 0 cm /Im0 Do Q";
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 5] /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        image,
        format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).into_bytes(),
    ];
    pdf_from_objects(&objects)
}

/// A PDF with one page per `(MediaBox, content stream)`.
fn simple_pdf(pages: &[(&str, &str)]) -> Vec<u8> {
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")),
    ];
    for (i, (media_box, content)) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox {media_box} /Contents {} 0 R >>",
            4 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    pdf_from_objects(&objects)
}

const IMAGENET_YML: &str = "Global:\n  model_name: PP-LCNet_x1_0_doc_ori\nPreProcess:\n  transform_ops:\n  - ResizeImage:\n      resize_short: 256\n  - CropImage:\n      size: 224\n  - NormalizeImage:\n      channel_num: 3\n      mean: [0.485, 0.456, 0.406]\n      order: ''\n      scale: 0.00392156862745098\n      std: [0.229, 0.224, 0.225]\n  - ToCHWImage: null\nPostProcess:\n  Topk:\n    topk: 1\n    label_list:\n    - '0'\n    - '90'\n    - '180'\n    - '270'\n";

const SMALL_YML: &str = "Global:\n  model_name: m\nHpi:\n  backend_configs:\n    paddle_infer:\n      trt_dynamic_shapes:\n        x: [[1, 3, 16, 16], [1, 3, 16, 16], [8, 3, 16, 16]]\nPreProcess:\n  transform_ops:\n  - ResizeImage:\n      size: [12, 10]\n      backend: pil\n      interpolation: BICUBIC\n  - CropImage:\n      size: [8, 6]\n  - NormalizeImage:\n      mean: [0, 0, 0]\n      std: [1, 1, 1]\n      scale: 1./255.\nPostProcess:\n  Topk:\n    topk: 2\n";

const PIPELINE_YAML: &str = "pipeline_name: image_classification\nuse_hpip: True\nhpi_config:\n  backend: tensorrt\n  backend_config:\n    precision: fp16\n    dynamic_shapes:\n      x: [[1, 3, 224, 224], [1, 3, 224, 224], [8, 3, 224, 224]]\nSubModules:\n  ImageClassification:\n    module_name: image_classification\n    model_name: PP-LCNet_x1_0_doc_ori\n    model_dir: null\n    batch_size: 4\n    topk: 5\nServing:\n  visualize: False\n";

const HPI_LITERALS: [&str; 3] = [
    "{'backend': 'tensorrt', 'backend_config': {'precision': 'fp16', 'dynamic_shapes': {'x': [[1, 3, 224, 224], [1, 3, 224, 224], [8, 3, 224, 224]]}}}",
    "{\"backend\": \"onnxruntime\", 'auto_config': False, 'x': (1, -2.5e3, None, True, 'a\\'b\\n')}",
    "{'backend': 'openvino', 'backend_config': {'cpu_num_threads': 4}}",
];

/// `png` with the CRC of every whole chunk recomputed.
fn with_png_crcs(png: &[u8]) -> Vec<u8> {
    let mut out = png.to_vec();
    let mut pos = 8;
    while pos + 12 <= out.len() {
        let len = u32::from_be_bytes([out[pos], out[pos + 1], out[pos + 2], out[pos + 3]]) as usize;
        let Some(end) = (pos + 8).checked_add(len).filter(|&e| e + 4 <= out.len()) else {
            break;
        };
        let crc = crc32(&out[pos + 4..end]);
        out[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        pos = end + 4;
    }
    out
}

// ---------------------------------------------------------------- checks

/// The preprocessing of the usual ImageNet classifiers.
fn imagenet() -> Preprocessor {
    let config = paddlex::model::InferenceConfig::parse(IMAGENET_YML, "fuzz").expect("config");
    Preprocessor::from_ops(&config.transform_ops).expect("preprocessing")
}

/// Decodes (and preprocesses) any image; true when it decoded.
fn check_image(bytes: &[u8]) -> bool {
    match decode_bytes(bytes) {
        Ok(img) => {
            let (w, h) = img.dimensions();
            assert!(u64::from(w) * u64::from(h) <= MAX_PIXELS);
            let _ = imagenet().run(&img);
            true
        }
        Err(_) => false,
    }
}

/// Counts and decodes the frames of a TIFF (at most 4), from a file as the
/// CLI reads them; true when every frame decoded.
fn check_tiff(bytes: &[u8], dir: &Path) -> bool {
    let single = check_image(bytes);
    let path = dir.join("m.tiff");
    std::fs::write(&path, bytes).expect("write mutant");
    let Ok(frames) = tiff_frame_count(&path) else {
        return false;
    };
    let all = (0..frames.min(4)).all(|i| match decode_tiff_frame(&path, i) {
        Ok(img) => u64::from(img.width()) * u64::from(img.height()) <= MAX_PIXELS,
        Err(_) => false,
    });
    single && all
}

/// Parses a PDF and renders its pages (the first four, each when it
/// renders to at most a megapixel: bigger pages only cost time in a debug
/// build); true when every page checked rendered.
fn check_pdf(bytes: &[u8]) -> bool {
    let Ok(doc) = PdfDocument::from_bytes(bytes.to_vec()) else {
        return false;
    };
    (0..doc.page_count().min(4)).all(|i| {
        let small = doc
            .page_size(i)
            .is_some_and(|(w, h)| f64::from(w) * f64::from(h) * 4.0 <= 1e6);
        !small || doc.render_page(i).is_ok()
    })
}

fn check_inference_yml(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(config) = paddlex::model::InferenceConfig::parse(text, "fuzz") else {
        return false;
    };
    let Ok(pre) = Preprocessor::from_ops(&config.transform_ops) else {
        return false;
    };
    // Run only what is quick in a debug build: small targets.
    let small = |w: u32, h: u32| u64::from(w) * u64::from(h) <= 1 << 16;
    let quick = pre.crop.is_none_or(|(w, h)| small(w, h))
        && pre.resize.is_none_or(|r| match r.target {
            paddlex::imaging::preprocess::ResizeTarget::Short(s) => s <= 256,
            paddlex::imaging::preprocess::ResizeTarget::Exact(w, h) => small(w, h),
        });
    if quick {
        for img in [gradient(9, 7), gradient(300, 2), gradient(1, 1)] {
            let _ = pre.run(&img);
        }
    }
    true
}

fn check_pipeline_yaml(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Ok(config) = paddlex::config::PipelineConfig::parse(text, "fuzz") else {
        return false;
    };
    paddlex::runtime::hpi::HpiConfig::resolve(config.hpi_config.as_ref(), None).is_ok()
}

fn check_hpi_literal(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let parsed = paddlex::runtime::hpi::parse_python_literal(text).is_ok();
    let resolved = paddlex::runtime::hpi::HpiConfig::resolve(None, Some(text)).is_ok();
    parsed && resolved
}

/// Reads the bytes as one pickle, then as a legacy PyTorch file; true when
/// either reads.
fn check_pickle(bytes: &[u8]) -> bool {
    let pickle = paddlex::model::convert::pickle::read_pickle(bytes, 0).is_ok();
    let legacy = paddlex::model::convert::load_legacy_state_dict(bytes).is_ok();
    pickle || legacy
}

/// A pickle of `x = 1`, then six times `x = (x, x)` through the memo, every
/// `x` kept: repeated chunks of it test the memo's copy budget.
fn doubling_pickle() -> Vec<u8> {
    let mut p = vec![0x80, 2, b'(', b'K', 1, b'q', 0];
    for _ in 0..6 {
        p.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
    }
    p.extend([b't', b'.']);
    p
}

fn legacy_pth() -> Vec<u8> {
    std::fs::read(common::data_dir().join("fuzz/tiny_legacy.pth")).expect("tiny_legacy.pth")
}

// ---------------------------------------------------------------- children

/// Runs one target in the child process.
fn run_target(target: &str) {
    let text = |s: &str| Seed::plain(s.as_bytes().to_vec());
    match target {
        "jpeg" => fuzz(target, &jpeg_seeds(), check_image),
        "png" => fuzz(target, &png_seeds(), |b| {
            // Half the mutants with their chunk checksums made right again,
            // so that they get past the CRC check into the decoder proper.
            let fixed = check_image(&with_png_crcs(b));
            check_image(b) || fixed
        }),
        "bmp" => fuzz(target, &bmp_seeds(), check_image),
        "webp" => fuzz(target, &webp_seeds(), check_image),
        "pnm" => fuzz(target, &pnm_seeds(), check_image),
        "tiff" => {
            let dir = tempfile::tempdir().expect("tempdir");
            fuzz(target, &tiff_seeds(), |b| check_tiff(b, dir.path()));
        }
        "pdf" => fuzz(target, &pdf_seeds(), check_pdf),
        "inference_yml" => fuzz(
            target,
            &[text(IMAGENET_YML), text(SMALL_YML)],
            check_inference_yml,
        ),
        "pipeline_yaml" => fuzz(
            target,
            &[
                text(PIPELINE_YAML),
                text(paddlex::config::DEFAULT_CONFIG_YAML),
            ],
            check_pipeline_yaml,
        ),
        "hpi_config" => {
            let seeds: Vec<Seed> = HPI_LITERALS.iter().map(|s| text(s)).collect();
            fuzz(target, &seeds, check_hpi_literal);
        }
        "pickle" => fuzz(
            target,
            &[Seed::plain(legacy_pth()), Seed::plain(doubling_pickle())],
            check_pickle,
        ),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// The child's entry point: runs the target named in the environment (or
/// every target, when run by hand with `--ignored`).
#[test]
#[ignore = "run by the other tests in a child process under ulimit -v"]
fn fuzz_child() {
    match std::env::var(TARGET_ENV) {
        Ok(target) => run_target(&target),
        Err(_) => TARGETS.iter().for_each(|t| run_target(t)),
    }
}

const TARGETS: [&str; 11] = [
    "jpeg",
    "png",
    "bmp",
    "webp",
    "pnm",
    "tiff",
    "pdf",
    "inference_yml",
    "pipeline_yaml",
    "hpi_config",
    "pickle",
];

/// Runs `target` in a child process with a bounded address space and
/// time; fails with the case that crashed, aborted or hung.
fn in_child(target: &str) {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\""),
        ])
        .arg(exe)
        .args([
            "--exact",
            "fuzz_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(TARGET_ENV, target)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the fuzz child");
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > CHILD_TIME {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = reader.join().unwrap_or_default();
    let last_case = err
        .lines()
        .rfind(|l| l.starts_with("case "))
        .unwrap_or("before the first case");
    let tail: Vec<&str> = err.lines().rev().take(8).collect();
    match status {
        None => panic!("{target}: still running after {CHILD_TIME:?}, at {last_case}"),
        Some(s) if !s.success() => panic!(
            "{target}: the child failed ({s}) at {last_case} (PADDLEX_RS_FUZZ_DUMP=<dir> keeps its bytes):\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ),
        Some(_) => {
            let n = err.lines().filter(|l| l.starts_with("case ")).count();
            assert!(n > 0, "{target}: no case ran");
        }
    }
}

#[test]
fn jpeg_mutants() {
    in_child("jpeg");
}

#[test]
fn png_mutants() {
    in_child("png");
}

#[test]
fn bmp_mutants() {
    in_child("bmp");
}

#[test]
fn webp_mutants() {
    in_child("webp");
}

#[test]
fn pnm_mutants() {
    in_child("pnm");
}

#[test]
fn tiff_mutants_and_their_frames() {
    in_child("tiff");
}

#[test]
fn pdf_mutants() {
    in_child("pdf");
}

#[test]
fn inference_yml_mutants() {
    in_child("inference_yml");
}

#[test]
fn pipeline_yaml_mutants() {
    in_child("pipeline_yaml");
}

#[test]
fn hpi_config_mutants() {
    in_child("hpi_config");
}

#[test]
fn pickle_and_legacy_pth_mutants() {
    in_child("pickle");
}

#[test]
fn png_checksums_are_recomputed_right() {
    let png = &png_seeds()[0].bytes;
    assert_eq!(crc32(b"IEND"), 0xae42_6082);
    let mut broken = png.clone();
    let last = broken.len() - 1;
    broken[last] ^= 1;
    assert_ne!(broken, *png);
    assert_eq!(with_png_crcs(&broken), *png);
}

#[test]
fn the_mutator_is_deterministic_and_changes_its_input() {
    let seeds = png_seeds();
    let run = || {
        let mut rng = Rng::new(7);
        (0..50)
            .map(|_| mutate(&seeds[0], &seeds, &mut rng))
            .collect::<Vec<_>>()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let changed = a.iter().filter(|m| **m != seeds[0].bytes).count();
    assert!(
        changed >= 45,
        "{changed} of 50 mutants differ from the seed"
    );
}
