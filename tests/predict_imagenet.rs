//! The default pipeline (`--pipeline image_classification`): EfficientNet-Lite0,
//! provisioned from its PyTorch weights and converted to ONNX on first use,
//! against the real PaddleX's top-5 on the same photos.

mod common;

use common::*;

const PNGS: &[&str] = &[
    "astronaut.png",
    "camera.png",
    "chelsea.png",
    "coffee.png",
    "doc_0.png",
    "doc_90.png",
    "horse.png",
    "text.png",
];
/// JPEGs with a trustworthy PaddleX line. Not doc_0.jpg: in PaddleX's
/// reference run it and doc_0.png both wrote `doc_0_res.json`, so its golden
/// line holds doc_0.png's values (tests/data/expected/README.md).
const JPEGS: &[&str] = &["rocket.jpg"];

#[test]
fn default_pipeline_agrees_with_paddlex() {
    let dir = tempfile::tempdir().unwrap();
    let all: Vec<&str> = PNGS.iter().chain(JPEGS).copied().collect();
    copy_photos(dir.path(), &all);
    let out = paddlex()
        .current_dir(dir.path())
        .args([
            "--pipeline",
            "image_classification",
            "--input",
            "imgs",
            "--save_path",
            "out",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let gold = golden("imagenet_efficientnet_lite0.golden.jsonl");
    for name in &all {
        let want = gold.iter().find(|g| g.image == *name).expect("golden line");
        let stem = name.rsplit_once('.').unwrap().0;
        let got = read_result(&dir.path().join(format!("out/{stem}_res.json")));
        // PNG and JPEG alike (JPEGs through libjpeg-turbo, as OpenCV reads
        // them): the same classes and every printed digit of every score.
        assert_eq!(got.class_ids, want.class_ids, "{name}");
        assert_eq!(got.label_names, want.label_names, "{name}");
        assert_eq!(got.scores, want.scores, "{name}: scores vs PaddleX");
    }
    let err = stderr_of(&out);
    assert!(err.contains("'label_names': ['tiger cat', 'Egyptian cat', 'tabby, tabby cat', 'lynx, catamount', 'window screen']"), "{err}");
    assert!(
        err.contains("array([0.38878, 0.35908, 0.16275, 0.0197 , 0.00133], dtype=float32)"),
        "{err}"
    );
}
