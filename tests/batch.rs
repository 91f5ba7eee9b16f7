//! Batch-job features: machine-readable formats, several inputs, stdin lists,
//! shards, resuming, progress, PDF pages and multi-frame TIFFs.

mod common;

use std::collections::BTreeSet;

use common::*;

/// Batch size 2, top-2.
fn setup(photos: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    workspace(photos, DOC_MODEL, 2, "2")
}

#[test]
fn jsonl_has_one_line_per_input_in_order_with_failures_inline() {
    let (dir, yaml) = setup(&["doc_0.png", "doc_90.png"]);
    std::fs::write(dir.path().join("imgs/bad.png"), b"garbage").unwrap();
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &[
            "--input",
            "imgs/doc_90.png",
            "imgs/bad.png",
            "imgs/doc_0.png",
            "--format",
            "jsonl",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["input_path"], "imgs/doc_90.png");
    assert_eq!(lines[0]["label_names"], serde_json::json!(["270", "90"]));
    assert_eq!(lines[0]["page_index"], serde_json::Value::Null);
    assert_eq!(lines[1]["input_path"], "imgs/bad.png");
    assert!(lines[1]["error"].as_str().unwrap().contains("not an image"));
    // Failure lines are laid out like result lines (Python's json.dumps spacing).
    let raw: Vec<&str> = stdout.lines().collect();
    assert!(
        raw[1].starts_with(r#"{"input_path": "imgs/bad.png", "page_index": null, "error": ""#),
        "{}",
        raw[1]
    );
    assert!(raw[0]
        .starts_with(r#"{"input_path": "imgs/doc_90.png", "page_index": null, "class_ids": ["#));
    assert_eq!(lines[2]["class_ids"], serde_json::json!([0, 2]));
    assert!((lines[2]["scores"][0].as_f64().unwrap() - 0.92543).abs() < 1e-4);
    let err = stderr_of(&out);
    assert!(
        !err.contains("{'res'"),
        "no PaddleX lines in jsonl mode: {err}"
    );
    assert!(
        err.contains("Done: 3 processed, 1 failed, 0 skipped"),
        "{err}"
    );
}

#[test]
fn csv_rows_follow_rfc4180_with_a_failing_input() {
    let (dir, yaml) = setup(&["doc_180.png"]);
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &[
            "--input",
            "imgs/doc_180.png",
            "imgs/missing.png",
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "input_path",
            "page_index",
            "class_id_1",
            "label_1",
            "score_1",
            "class_id_2",
            "label_2",
            "score_2",
            "error"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "imgs/doc_180.png");
    assert_eq!((&rows[0][2], &rows[0][3]), ("2", "180"));
    assert_eq!(&rows[0][4], "0.9253900051116943");
    assert_eq!(&rows[0][8], "");
    assert_eq!(&rows[1][0], "imgs/missing.png");
    assert_eq!(&rows[1][2], "");
    assert_eq!(&rows[1][8], "No such file or directory");
}

#[test]
fn stdin_lists_and_several_inputs_combine_in_order() {
    let (dir, yaml) = setup(&["doc_0.png", "doc_90.png", "doc_180.png"]);
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs/doc_180.png", "-", "--format", "jsonl"],
        "imgs/doc_0.png\n\nimgs/doc_90.png\n",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let paths: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["input_path"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        paths,
        ["imgs/doc_180.png", "imgs/doc_0.png", "imgs/doc_90.png"]
    );
}

#[test]
fn shards_partition_a_folder_with_no_overlap_and_no_gap() {
    let photos = [
        "doc_0.png",
        "doc_90.png",
        "doc_180.png",
        "doc_270.png",
        "chelsea.png",
    ];
    let (dir, yaml) = setup(&photos);
    let mut seen = Vec::new();
    for k in 0..3 {
        let out = run_pipeline(
            dir.path(),
            &yaml,
            &[
                "--input",
                "imgs",
                "--format",
                "jsonl",
                "--shard",
                &format!("{k}/3"),
            ],
            "",
        );
        assert!(out.status.success());
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            seen.push(v["input_path"].as_str().unwrap().to_string());
        }
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), photos.len(), "no overlap: {seen:?}");
    assert_eq!(unique.len(), photos.len(), "no gap");
}

#[test]
fn skip_existing_resumes_a_partial_run() {
    let (dir, yaml) = setup(&["doc_0.png", "doc_90.png", "doc_180.png"]);
    let first = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs/doc_0.png", "--save_path", "out"],
        "",
    );
    assert!(first.status.success());
    let before = std::fs::metadata(dir.path().join("out/doc_0_res.json"))
        .unwrap()
        .modified()
        .unwrap();
    let second = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs", "--save_path", "out", "--skip_existing"],
        "",
    );
    assert!(second.status.success());
    let err = stderr_of(&second);
    assert!(
        err.contains("Done: 2 processed, 0 failed, 1 skipped"),
        "{err}"
    );
    assert!(!err.contains("'input_path': 'imgs/doc_0.png'"), "{err}");
    for stem in ["doc_0", "doc_90", "doc_180"] {
        assert!(dir.path().join(format!("out/{stem}_res.json")).is_file());
    }
    let after = std::fs::metadata(dir.path().join("out/doc_0_res.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after, "the existing result is left alone");
}

#[test]
fn skip_existing_redoes_an_input_whose_visualisation_is_missing() {
    let (dir, yaml) = setup(&["doc_0.png", "doc_90.png"]);
    let args = ["--input", "imgs", "--save_path", "out", "--skip_existing"];
    assert!(run_pipeline(dir.path(), &yaml, &args, "").status.success());
    let visual = dir.path().join("out/doc_90_res.png");
    std::fs::remove_file(&visual).unwrap();
    let again = run_pipeline(dir.path(), &yaml, &args, "");
    assert!(again.status.success());
    let err = stderr_of(&again);
    assert!(
        err.contains("Done: 1 processed, 0 failed, 1 skipped"),
        "only the JSON of doc_90 was there, so it is done again: {err}"
    );
    assert!(visual.is_file());
}

#[test]
fn the_json_is_written_last_so_a_failed_visualisation_leaves_none() {
    let (dir, yaml) = setup(&["doc_0.png"]);
    // A folder where the visualisation goes: renaming onto it fails.
    std::fs::create_dir_all(dir.path().join("out/doc_0_res.png/x")).unwrap();
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs/doc_0.png", "--save_path", "out"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("Error: imgs/doc_0.png: cannot save"), "{err}");
    assert!(
        !dir.path().join("out/doc_0_res.json").exists(),
        "no JSON for a result whose visualisation failed"
    );
}

#[test]
fn pdf_pages_are_classified_with_their_page_index() {
    let (dir, yaml) = setup(&[]);
    let pages = [
        image::open(photo("doc_0.png")).unwrap().to_rgb8(),
        image::open(photo("doc_90.png")).unwrap().to_rgb8(),
    ];
    write_pdf(&dir.path().join("scan.pdf"), &pages);
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "scan.pdf", "--save_path", "out"],
        "",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let p0 = read_result(&dir.path().join("out/scan_0_res.json"));
    let p1 = read_result(&dir.path().join("out/scan_1_res.json"));
    assert_eq!((p0.page_index, p1.page_index), (Some(0), Some(1)));
    assert_eq!(p0.input_path, "scan.pdf");
    assert_eq!(p0.label_names[0], "0");
    assert_eq!(p1.label_names[0], "270");
    let vis = image::open(dir.path().join("out/scan_1_res.png")).unwrap();
    assert_eq!(
        (vis.width(), vis.height()),
        (1100, 800),
        "rendered at scale 2"
    );
    assert!(stderr_of(&out).contains("'input_path': 'scan.pdf', 'page_index': 1,"));
}

#[test]
fn multi_frame_tiff_gives_one_result_per_frame() {
    let (dir, yaml) = setup(&[]);
    let path = dir.path().join("frames.tiff");
    let file = std::fs::File::create(&path).unwrap();
    let mut enc = tiff::encoder::TiffEncoder::new(file).unwrap();
    for name in ["doc_180.png", "doc_270.png"] {
        let img = image::open(photo(name)).unwrap().to_rgb8();
        enc.write_image::<tiff::encoder::colortype::RGB8>(img.width(), img.height(), img.as_raw())
            .unwrap();
    }
    drop(enc);
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "frames.tiff", "--format", "jsonl"],
        "",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["page_index"].as_u64(),
            lines[1]["page_index"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(
        (
            lines[0]["label_names"][0].as_str(),
            lines[1]["label_names"][0].as_str()
        ),
        (Some("180"), Some("90"))
    );
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let (dir, yaml) = setup(&["doc_0.png", "doc_90.png", "doc_180.png"]);
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs", "--format", "jsonl"],
        "",
    );
    let err = stderr_of(&out);
    assert!(
        !err.contains('\r') && !err.contains("images/s  ETA") && !err.contains('\x1b'),
        "{err:?}"
    );
    assert_eq!(err.lines().filter(|l| l.starts_with("Done:")).count(), 1);
}

#[test]
fn pipelined_batches_give_the_sequential_results_in_order() {
    let photos = [
        "doc_0.png",
        "doc_90.png",
        "doc_180.png",
        "doc_270.png",
        "chelsea.png",
        "coffee.png",
        "text.png",
    ];
    let dir = tempfile::tempdir().unwrap();
    copy_photos(dir.path(), &photos);
    let mut outputs = Vec::new();
    for batch in [1, 3, 4] {
        let yaml = pipeline_yaml(dir.path(), "PP-LCNet_x1_0_doc_ori", None, batch, "4");
        let out = run_pipeline(
            dir.path(),
            &yaml,
            &["--input", "imgs", "--format", "jsonl"],
            "",
        );
        assert!(out.status.success());
        outputs.push(String::from_utf8(out.stdout).unwrap());
    }
    assert_eq!(outputs[0].lines().count(), photos.len());
    assert_eq!(
        outputs[0], outputs[1],
        "batch 3 (padded last batch) = batch 1"
    );
    assert_eq!(outputs[0], outputs[2], "batch 4 = batch 1");
}
