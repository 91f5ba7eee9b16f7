//! Every decode path under the same limits: a tiny file that would make the
//! preprocessing allocate gigabytes is one error line for that input, under
//! a bounded address space, and the other inputs are still classified.

mod common;

use std::path::Path;

use common::*;

/// A model directory with PP-LCNet_x1_0_doc_ori's network (224 x 224
/// input) and a preprocessing that resizes the short side without a crop.
fn no_crop_model(dir: &Path) -> std::path::PathBuf {
    // Provision the official model (no input: the model is only loaded).
    let official = pipeline_yaml(dir, "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    let out = paddlex()
        .args(["--pipeline", official.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let model = dir.join("no_crop");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::copy(
        shared_cache().join("official_models/PP-LCNet_x1_0_doc_ori/inference.onnx"),
        model.join("inference.onnx"),
    )
    .unwrap();
    std::fs::write(
        model.join("inference.yml"),
        "Global:\n  model_name: NoCrop\nPreProcess:\n  transform_ops:\n  - ResizeImage:\n      resize_short: 224\n  - NormalizeImage:\n      mean: [0.485, 0.456, 0.406]\n      std: [0.229, 0.224, 0.225]\n      scale: 0.00392156862745098\n  - ToCHWImage: null\nPostProcess:\n  Topk:\n    topk: 1\n    label_list: ['0', '90', '180', '270']\n",
    )
    .unwrap();
    pipeline_yaml(dir, "NoCrop", Some(&model), 1, "1")
}

#[test]
fn a_long_thin_png_with_a_no_crop_model_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = no_crop_model(dir.path());
    let imgs = dir.path().join("imgs");
    std::fs::create_dir_all(&imgs).unwrap();
    // A square photo: 224 x 224 after the resize, the network's input.
    let doc = image::open(photo("doc_0.png")).unwrap().to_rgb8();
    let side = doc.width().min(doc.height());
    image::imageops::crop_imm(&doc, 0, 0, side, side)
        .to_image()
        .save(imgs.join("b_square.png"))
        .unwrap();
    // 2 x 40000 pixels in a few KB: resized to 224 x 4,480,000.
    let thin = std::fs::File::create(imgs.join("a_thin.png")).unwrap();
    let png = image::codecs::png::PngEncoder::new_with_quality(
        thin,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(
        png,
        &[200u8; 2 * 40_000],
        2,
        40_000,
        image::ExtendedColorType::L8,
    )
    .unwrap();
    assert!(std::fs::metadata(imgs.join("a_thin.png")).unwrap().len() < 10_000);
    // Without the check the resize and its tensor take about 15 GB: with
    // 8 GB of address space that is an abort, not this error.
    let bin = assert_cmd::cargo::cargo_bin("paddlex");
    let out = std::process::Command::new("sh")
        .current_dir(dir.path())
        .env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env_remove("ORT_DYLIB_PATH")
        .args([
            "-c",
            "ulimit -v 8000000 && exec \"$0\" \"$@\"",
            bin.to_str().unwrap(),
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            "imgs",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("Error: ")).collect();
    assert_eq!(
        errors,
        ["Error: imgs/a_thin.png: resizing the 2x40000 image to 224x4480000 would exceed the limit of 178956970 pixels"],
        "{err}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one line per input");
    assert_eq!(lines[1]["input_path"], "imgs/b_square.png");
    assert_eq!(
        lines[1]["label_names"].as_array().map(Vec::len),
        Some(1),
        "the other input is classified: {}",
        lines[1]
    );
}

/// A TIFF of three frames: 1x1, then 3x2 with Orientation `orientation`
/// (red top-left), then 4x4 declared `big` x `big` when `big` is given.
fn three_frames(orientation: u16, big: Option<u32>) -> Vec<u8> {
    use tiff::encoder::{colortype, TiffEncoder};
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut enc = TiffEncoder::new(&mut out).unwrap();
        enc.write_image::<colortype::RGB8>(1, 1, &[0, 0, 0])
            .unwrap();
        let mut img = enc.new_image::<colortype::RGB8>(3, 2).unwrap();
        img.encoder()
            .write_tag(tiff::tags::Tag::Orientation, orientation)
            .unwrap();
        let mut data = vec![255u8; 3 * 2 * 3];
        data[1] = 0;
        data[2] = 0;
        img.write_data(&data).unwrap();
        enc.write_image::<colortype::RGB8>(4, 4, &[9; 48]).unwrap();
    }
    let mut bytes = out.into_inner();
    if let Some(side) = big {
        set_dimensions(&mut bytes, 2, side, side);
    }
    bytes
}

/// Rewrites ImageWidth and ImageLength of IFD number `ifd` (little-endian).
fn set_dimensions(bytes: &mut [u8], ifd: usize, width: u32, height: u32) {
    let u16_at = |b: &[u8], p: usize| u16::from_le_bytes([b[p], b[p + 1]]);
    let u32_at = |b: &[u8], p: usize| u32::from_le_bytes([b[p], b[p + 1], b[p + 2], b[p + 3]]);
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
        bytes[entry + 2..entry + 4].copy_from_slice(&4u16.to_le_bytes());
        bytes[entry + 4..entry + 8].copy_from_slice(&1u32.to_le_bytes());
        bytes[entry + 8..entry + 12].copy_from_slice(&value.to_le_bytes());
    }
}

#[test]
fn tiff_frames_follow_the_orientation_and_pixel_cap_of_other_images() {
    use paddlex::input::document::{decode_tiff_frame, tiff_frame_count};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frames.tiff");
    std::fs::write(&path, three_frames(6, Some(20_000))).unwrap();
    assert_eq!(tiff_frame_count(&path).unwrap(), 3);
    // Orientation 6 (rotate 90° clockwise): 3x2 shown as 2x3, red top-right,
    // as a single-frame TIFF or a JPEG with that EXIF orientation.
    let rotated = decode_tiff_frame(&path, 1).unwrap();
    assert_eq!(rotated.dimensions(), (2, 3));
    assert_eq!(rotated.get_pixel(1, 0).0, [255, 0, 0]);
    // A frame declaring 20000 x 20000 gets the error of any other image.
    assert_eq!(
        decode_tiff_frame(&path, 2).unwrap_err(),
        "image of 20000x20000 pixels exceeds the limit of 178956970 pixels"
    );
    // The same orientation rule as a single-frame TIFF read by the image decoder.
    let single = {
        use tiff::encoder::{colortype, TiffEncoder};
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut enc = TiffEncoder::new(&mut out).unwrap();
            let mut img = enc.new_image::<colortype::RGB8>(3, 2).unwrap();
            img.encoder()
                .write_tag(tiff::tags::Tag::Orientation, 6u16)
                .unwrap();
            let mut data = vec![255u8; 18];
            data[1] = 0;
            data[2] = 0;
            img.write_data(&data).unwrap();
        }
        out.into_inner()
    };
    assert_eq!(
        paddlex::imaging::decode::decode_bytes(&single).unwrap(),
        rotated
    );
}

#[test]
fn a_pdf_that_makes_the_renderer_panic_is_one_error_line() {
    // Found by tests/fuzz.rs: the renderer unwraps a None on this page.
    let dir = tempfile::tempdir().unwrap();
    let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, 1, "1");
    let pdf = dir.path().join("broken.pdf");
    std::fs::copy(data_dir().join("fuzz/renderer_panic.pdf"), &pdf).unwrap();
    let out = run_pipeline(dir.path(), &yaml, &["--input", "broken.pdf"], "");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("Error: broken.pdf") && l.contains("the renderer failed")),
        "{err}"
    );
    assert!(!err.contains("panicked"), "the panic is not printed: {err}");
}
