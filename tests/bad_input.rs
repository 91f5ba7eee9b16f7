//! Every kind of bad input gets one clear line naming the file and the
//! reason; the other inputs are still classified and saved; exit code 1.

mod common;

use common::*;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, yaml) = workspace(&["doc_0.png", "doc_90.png"], DOC_MODEL, 2, "1");
    let imgs = dir.path().join("imgs");
    let png = std::fs::read(photo("doc_180.png")).unwrap();
    std::fs::write(imgs.join("a_empty.png"), b"").unwrap();
    std::fs::write(imgs.join("b_text.jpg"), b"this is not an image at all").unwrap();
    std::fs::write(imgs.join("c_truncated.png"), &png[..png.len() / 3]).unwrap();
    (dir, yaml)
}

#[test]
fn a_folder_with_bad_files_still_processes_the_good_ones() {
    let (dir, yaml) = setup();
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "imgs", "--save_path", "out"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("Error: imgs/a_empty.png: the file is empty"),
        "{err}"
    );
    assert!(
        err.contains("Error: imgs/b_text.jpg: not an image file"),
        "{err}"
    );
    assert!(
        err.contains("Error: imgs/c_truncated.png: cannot decode the image"),
        "{err}"
    );
    assert!(
        err.contains("Done: 5 processed, 3 failed, 0 skipped in "),
        "{err}"
    );
    for stem in ["doc_0", "doc_90"] {
        assert!(dir.path().join(format!("out/{stem}_res.json")).is_file());
        assert!(dir.path().join(format!("out/{stem}_res.png")).is_file());
    }
    let saved: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        saved.len(),
        4,
        "only the good inputs are saved, no partial files: {saved:?}"
    );
    // Each failure is exactly one line.
    assert_eq!(
        err.lines().filter(|l| l.starts_with("Error: ")).count(),
        3,
        "{err}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let (dir, yaml) = setup();
    let out = run_pipeline(dir.path(), &yaml, &["--input", "imgs/nope.png"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("Error: imgs/nope.png: No such file or directory"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_unsupported_file_type_is_named() {
    let (dir, yaml) = setup();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = run_pipeline(dir.path(), &yaml, &["--input", "notes.txt"], "");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("Error: notes.txt: unsupported file type `.txt`"),
        "{err}"
    );
}

#[test]
fn an_empty_folder_fails_like_paddlex() {
    let (dir, yaml) = setup();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let out = run_pipeline(dir.path(), &yaml, &["--input", "empty"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("Not found any file in empty"));
}

#[test]
fn tiny_and_odd_images_do_not_crash() {
    let (dir, yaml) = setup();
    let tiny = dir.path().join("tiny");
    std::fs::create_dir(&tiny).unwrap();
    image::RgbImage::from_pixel(1, 1, image::Rgb([200, 10, 10]))
        .save(tiny.join("one.png"))
        .unwrap();
    image::GrayImage::from_pixel(7, 300, image::Luma([90]))
        .save(tiny.join("tall.bmp"))
        .unwrap();
    image::RgbaImage::from_pixel(30, 12, image::Rgba([1, 2, 3, 0]))
        .save(tiny.join("alpha.webp"))
        .unwrap();
    let rgb16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_pixel(
        40,
        40,
        image::Rgb([65535u16, 0, 30000]),
    );
    rgb16.save(tiny.join("deep.tiff")).unwrap();
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "tiny", "--save_path", "out"],
        "",
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    for name in [
        "one_res.png",
        "tall_res.bmp",
        "alpha_res.webp",
        "deep_res.tiff",
    ] {
        let saved = image::open(dir.path().join("out").join(name)).unwrap();
        assert!(saved.width() >= 1, "{name}");
    }
}

#[test]
fn a_jpeg_cut_short_is_decoded_with_a_warning_unless_its_header_is_cut() {
    // As cv2.imread: libjpeg decodes the part that is there (and warns);
    // with no complete header there is no image, one error line.
    let (dir, yaml) = setup();
    let jpegs = dir.path().join("jpegs");
    std::fs::create_dir(&jpegs).unwrap();
    let whole = std::fs::read(photo("doc_0.jpg")).unwrap();
    std::fs::write(jpegs.join("cut.jpg"), &whole[..whole.len() * 6 / 10]).unwrap();
    std::fs::write(jpegs.join("header.jpg"), &whole[..100]).unwrap();
    let out = run_pipeline(
        dir.path(),
        &yaml,
        &["--input", "jpegs", "--save_path", "out"],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("jpegs/cut.jpg: Premature end of JPEG file"),
        "{err}"
    );
    assert!(
        err.contains("Error: jpegs/header.jpg: cannot decode the image"),
        "{err}"
    );
    assert!(dir.path().join("out/cut_res.json").is_file());
    assert!(!dir.path().join("out/header_res.json").exists());
}
