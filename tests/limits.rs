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
