//! Per-stage costs on one core: decode, resize, crop+normalise, inference
//! (batch 1 and 4), JPEG encoding (whole, and split as a save run does it),
//! draw + JPEG/PNG save. Medians over repeated runs.
//!
//! `cargo bench --bench stages` (photos from target/bench/photos when
//! benches/compare.sh made them, else tests/data/photos);
//! `cargo bench --bench stages -- decode` for the decode stages only.
//! `PADDLEX_RS_BENCH_PHOTOS=dir` takes the photos from `dir` instead.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use paddlex::imaging::decode::{decode_bytes, jpeg, recycle};
use paddlex::imaging::preprocess::{short_side_size, Preprocessor};
use paddlex::imaging::resize;
use paddlex::model::resolve_model;
use paddlex::runtime::Classifier;
use paddlex::visualize::Visual;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median time of `f` over `rounds` runs.
fn time<R>(rounds: usize, mut f: impl FnMut() -> R) -> Duration {
    median(
        (0..rounds)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn photos() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = root.join("target/bench/photos");
    let dir = if let Some(dir) = std::env::var_os("PADDLEX_RS_BENCH_PHOTOS") {
        PathBuf::from(dir)
    } else if generated.is_dir() {
        generated
    } else {
        root.join("tests/data/photos")
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("photo folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
        .collect();
    files.sort();
    files.truncate(40);
    files
}

fn main() {
    let files = photos();
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    let images: Vec<_> = bytes
        .iter()
        .map(|b| decode_bytes(b).expect("decode"))
        .collect();
    let megapixels: f64 = images
        .iter()
        .map(|i| f64::from(i.width() * i.height()) / 1e6)
        .sum::<f64>()
        / images.len() as f64;
    println!(
        "{} photos, {:.2} MP on average, one thread per stage unless noted",
        files.len(),
        megapixels
    );
    let per_image = |d: Duration| d.as_secs_f64() * 1e3 / images.len() as f64;

    let decode = time(5, || {
        bytes.iter().filter(|b| decode_bytes(b).is_ok()).count()
    });
    println!(
        "  decode                 {:7.2} ms/image",
        per_image(decode)
    );
    jpeg_decoders(&bytes);
    if std::env::args().any(|a| a == "decode") {
        return;
    }
    let model = resolve_model("EfficientNet-Lite0", None).expect("model");
    let pre = Preprocessor::from_ops(&model.config.transform_ops).expect("preprocessing");
    let resize = time(5, || {
        images
            .iter()
            .filter(|i| {
                let (w, h) = short_side_size(i.width(), i.height(), 256);
                resize::resize(
                    i,
                    w,
                    h,
                    resize::ResizeLibrary::Cv2,
                    resize::Interpolation::Linear,
                )
                .is_ok()
            })
            .count()
    });
    println!(
        "  resize (short 256)     {:7.2} ms/image (the whole image)",
        per_image(resize)
    );
    let all = time(5, || images.iter().filter(|i| pre.run(i).is_ok()).count());
    println!(
        "  preprocess             {:7.2} ms/image (resize of the crop window, crop, normalise)",
        per_image(all)
    );

    let tensors: Vec<Vec<f32>> = images
        .iter()
        .map(|i| pre.run(i).expect("preprocess").1)
        .collect();
    for threads in [1, 2] {
        let mut classifier = Classifier::load(&model.onnx, threads).expect("session");
        for batch in [1usize, 4] {
            let data: Vec<f32> = tensors[..batch].concat();
            let shape = [batch, 3, 224, 224];
            classifier.run(&data, &shape).expect("warm-up");
            let t = time(20, || classifier.run(&data, &shape).map(|r| r.len()));
            println!(
                "  infer batch {batch}, {threads} thr   {:7.2} ms/image",
                t.as_secs_f64() * 1e3 / batch as f64
            );
        }
    }

    let encode = time(3, || {
        images
            .iter()
            .filter(|i| {
                paddlex::imaging::jpeg::encode(i.as_raw(), i.width(), i.height(), 75).is_ok()
            })
            .count()
    });
    println!(
        "  JPEG encode (q75)      {:7.2} ms/image (in memory)",
        per_image(encode)
    );
    // As a save run does it: the rows below the label band right after
    // decoding, the band once the label is known.
    let (mut early, mut late) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..3 {
        for i in &images {
            let copy = i.clone();
            let start = Instant::now();
            let visual = Visual::for_jpeg(copy);
            let middle = Instant::now();
            if let Visual::Jpeg(partial) = visual {
                std::hint::black_box(partial.finish("tiger cat 0.39"));
            }
            early += middle - start;
            late += middle.elapsed();
        }
    }
    println!(
        "  split JPEG: early part {:7.2} ms/image, label band {:.2} ms/image (with drawing)",
        per_image(early) / 3.0,
        per_image(late) / 3.0
    );

    let dir = tempfile::tempdir().expect("tempdir");
    for suffix in ["jpg", "png"] {
        let path = dir.path().join(format!("x_res.{suffix}"));
        let t = time(3, || {
            images
                .iter()
                .map(|i| {
                    let drawn = paddlex::visualize::draw_label(i, "tiger cat 0.39");
                    paddlex::output::save_image(&drawn, &path).is_ok()
                })
                .count()
        });
        println!(
            "  draw + save .{suffix}       {:7.2} ms/image",
            per_image(t)
        );
    }
}

/// The JPEG files alone: libjpeg-turbo as used (a fresh buffer, then with the
/// buffer recycled as the pipeline does) against the `image` crate's
/// zune-jpeg, which decoded JPEGs before.
fn jpeg_decoders(bytes: &[Vec<u8>]) {
    let jpegs: Vec<&Vec<u8>> = bytes.iter().filter(|b| jpeg::is_jpeg(b)).collect();
    if jpegs.is_empty() {
        return;
    }
    let per_jpeg = |d: Duration| d.as_secs_f64() * 1e3 / jpegs.len() as f64;
    let fresh = time(5, || {
        jpegs.iter().filter(|b| decode_bytes(b).is_ok()).count()
    });
    let recycled = time(5, || {
        jpegs
            .iter()
            .filter_map(|b| decode_bytes(b).ok())
            .map(recycle)
            .count()
    });
    let zune = time(5, || {
        jpegs
            .iter()
            .filter(|b| image::load_from_memory_with_format(b, image::ImageFormat::Jpeg).is_ok())
            .count()
    });
    println!(
        "  JPEG decode, {} files: libjpeg-turbo {:.2} ms/image ({:.2} recycled, SIMD {}), zune-jpeg {:.2} ms/image",
        jpegs.len(),
        per_jpeg(fresh),
        per_jpeg(recycled),
        jpeg::simd_in_use(),
        per_jpeg(zune)
    );
}
