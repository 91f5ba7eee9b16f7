//! `--fast_decode` (and `PADDLEX_RS_FAST_DECODE`): reduced JPEG decodes give
//! the same top-1 as the exact path on the test photos, change the scores of
//! the photos large enough to be reduced, leave the others and every run
//! without the flag exactly as PaddleX's, and keep visualisations full size.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// The JPEG test photos: doc_0.jpg (800x1100) is reduced by 1/2 for
/// EfficientNet-Lite0's `resize_short: 256`; rocket.jpg (640x427) is too
/// small for any reduction.
const JPEGS: &[&str] = &["doc_0.jpg", "rocket.jpg"];

/// A 2560x1708 JPEG made from rocket.jpg (four times its size), reduced by 1/4.
const BIG: &str = "rocket_x4.jpg";

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let imgs = copy_photos(dir.path(), JPEGS);
    let rocket = image::open(photo("rocket.jpg")).unwrap().into_rgb8();
    let (w, h) = rocket.dimensions();
    let big = image::imageops::resize(&rocket, w * 4, h * 4, image::imageops::Triangle);
    big.save(imgs.join(BIG)).unwrap();
    dir
}

/// One jsonl line per input, by file name, from a run in `dir`.
fn run(dir: &Path, args: &[&str], fast_env: Option<&str>) -> Vec<(String, Value)> {
    let mut cmd = paddlex();
    cmd.current_dir(dir)
        .args(["--pipeline", "image_classification", "--input", "imgs"])
        .args(["--format", "jsonl"])
        .args(args);
    match fast_env {
        Some(value) => cmd.env("PADDLEX_RS_FAST_DECODE", value),
        None => cmd.env_remove("PADDLEX_RS_FAST_DECODE"),
    };
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let name = v["input_path"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap();
            (name.to_string(), v)
        })
        .collect()
}

fn result<'a>(lines: &'a [(String, Value)], name: &str) -> &'a Value {
    &lines.iter().find(|(n, _)| n == name).expect(name).1
}

/// doc_0.jpg's exact-path scores, as printed before `--fast_decode` existed
/// (the golden file's `doc_0.jpg` line holds doc_0.png's values: both write
/// `doc_0_res.json`, so PaddleX's reference run kept only one of them).
const DOC_0_JPG_EXACT: [f64; 5] = [
    0.39552000164985657,
    0.08171000331640244,
    0.044509999454021454,
    0.024150000885128975,
    0.01484999991953373,
];

fn scores(v: &Value) -> Vec<f64> {
    serde_json::from_value(v["scores"].clone()).unwrap()
}

#[test]
fn fast_decode_keeps_top1_and_changes_only_reduced_photos() {
    let dir = setup();
    let exact = run(dir.path(), &[], None);
    // Without the flag (or with the variable off): the numbers as before,
    // PaddleX's own for rocket.jpg.
    let gold = golden("imagenet_efficientnet_lite0.golden.jsonl");
    let rocket = gold.iter().find(|g| g.image == "rocket.jpg").unwrap();
    assert_eq!(scores(result(&exact, "rocket.jpg")), rocket.scores);
    assert_eq!(scores(result(&exact, "doc_0.jpg")), DOC_0_JPG_EXACT);
    assert_eq!(run(dir.path(), &[], Some("0")), exact);

    let fast = run(dir.path(), &["--fast_decode"], None);
    assert_eq!(run(dir.path(), &[], Some("1")), fast, "env var = flag");
    for name in JPEGS.iter().chain(&[BIG]) {
        let (e, f) = (result(&exact, name), result(&fast, name));
        assert_eq!(e["class_ids"][0], f["class_ids"][0], "{name}: top-1");
        // The score moves on reduced photos; this bounds it, loosely.
        let change = (scores(e)[0] - scores(f)[0]).abs();
        assert!(change < 0.1, "{name}: top-1 score moved by {change}");
    }
    // Reduced photos give other scores (the 4x rocket, decoded at 1/2);
    // rocket.jpg and doc_0.jpg, too small to reduce with the 2x margin, the same.
    assert_ne!(scores(result(&fast, BIG)), scores(result(&exact, BIG)));
    assert_eq!(result(&fast, "rocket.jpg"), result(&exact, "rocket.jpg"));
    assert_eq!(result(&fast, "doc_0.jpg"), result(&exact, "doc_0.jpg"));
}

#[test]
fn fast_decode_visuals_stay_full_size_and_scores_do_not_depend_on_saving() {
    let dir = setup();
    let fast = run(dir.path(), &["--fast_decode"], None);
    let saved = run(dir.path(), &["--fast_decode", "--save_path", "out"], None);
    assert_eq!(saved, fast);
    for (name, size) in [("doc_0", (800, 1100)), ("rocket_x4", (2560, 1708))] {
        let visual = image::open(dir.path().join(format!("out/{name}_res.jpg"))).unwrap();
        assert_eq!((visual.width(), visual.height()), size, "{name}");
    }
}
