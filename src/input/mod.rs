//! What `--input` names: files, folders (walked recursively and sorted like
//! PaddleX), http(s) URLs (downloaded into the cache, one folder per URL), `-` for a list on
//! stdin; and the units classified from them: an image, a PDF page, a TIFF frame.

pub mod document;
pub(crate) mod stream;

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use image::RgbImage;
use sha2::{Digest, Sha256};

use crate::atomic_file::write_atomically;
use crate::cache::cache_home;
use crate::imaging::decode::scale::{MinSize, Scale};
use crate::imaging::decode::{decode_file_reduced, DecodeError};
use document::PdfDocument;

/// Image suffixes accepted (PaddleX 3.5+'s list without the `sr`/`ras` formats we cannot decode; PDF is handled separately).
pub(crate) const IMAGE_SUFFIXES: &[&str] = &[
    "bmp", "dib", "jpeg", "jpg", "png", "webp", "pbm", "pgm", "ppm", "pnm", "tif", "tiff",
];

/// The largest download accepted for a URL input.
pub(crate) const MAX_DOWNLOAD_BYTES: u64 = 200 * 1024 * 1024;

/// One input to classify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputItem {
    /// A local path, as given or as listed from a folder.
    File(String),
    /// An http(s) URL.
    Url(String),
}

impl InputItem {
    /// The text shown for this input before it is read.
    pub(crate) fn display(&self) -> &str {
        match self {
            InputItem::File(p) | InputItem::Url(p) => p,
        }
    }
}

/// Why `--input` could not be expanded, or an item not fetched.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// A folder without any image.
    #[error("Not found any file in {0}")]
    EmptyDir(String),
    /// A folder that cannot be listed.
    #[error("cannot list {path}: {reason}")]
    ListDir {
        /// The folder.
        path: String,
        /// Why.
        reason: String,
    },
    /// A download failed.
    #[error("download failed: {0}")]
    Download(String),
}

/// Expands every `--input` value, in order; `-` reads newline-separated paths
/// or URLs from `stdin` (blank lines skipped).
pub(crate) fn expand_all(
    inputs: &[String],
    stdin: impl BufRead,
) -> Result<Vec<InputItem>, InputError> {
    let mut items = Vec::new();
    let mut stdin = Some(stdin);
    for input in inputs {
        if input == "-" {
            let Some(reader) = stdin.take() else { continue };
            for line in reader.lines() {
                let line = line.map_err(|e| InputError::ListDir {
                    path: "stdin".into(),
                    reason: e.to_string(),
                })?;
                let line = line.trim();
                if !line.is_empty() {
                    items.extend(expand(line)?);
                }
            }
        } else {
            items.extend(expand(input)?);
        }
    }
    Ok(items)
}

/// Keeps the items of shard `index` of `count`: item i goes to shard i mod count.
/// Every job computes the same list, so the shards never overlap and cover it all.
pub(crate) fn shard(items: Vec<InputItem>, index: usize, count: usize) -> Vec<InputItem> {
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % count == index)
        .map(|(_, item)| item)
        .collect()
}

/// One image to classify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The input path shown in results (the local copy of a URL).
    pub input_path: String,
    /// The page of a PDF, or the frame of a multi-frame TIFF.
    pub page_index: Option<usize>,
    /// Where the pixels come from.
    pub source: Source,
}

/// How a unit's image is obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An image file.
    Image,
    /// A page of a PDF, parsed once and shared by the units of its pages.
    PdfPage(Arc<PdfDocument>),
    /// A frame of a multi-frame TIFF.
    TiffFrame,
    /// The input failed before any image could be read (download, unreadable PDF).
    Failed(String),
    /// An image already decoded in memory (the Python API's arrays): shared,
    /// so cloning the unit does not copy the pixels.
    Pixels(std::sync::Arc<RgbImage>),
}

/// Turns items into units: downloads URLs, and splits PDFs into pages and
/// multi-frame TIFFs into frames. Failures become [`Source::Failed`] units.
/// Everything is done before this returns; a run uses [`stream::UnitStream`]
/// instead, which does it ahead of the pipeline.
pub fn to_units(items: &[InputItem]) -> Vec<Unit> {
    let never = AtomicBool::new(false);
    items
        .iter()
        .flat_map(|item| item_units(item, &never))
        .collect()
}

/// The units of one item; a download gives up early once `cancel` is set.
fn item_units(item: &InputItem, cancel: &AtomicBool) -> Vec<Unit> {
    let path = match item {
        InputItem::File(p) => p.clone(),
        InputItem::Url(url) => match download_cancellable(url, cancel) {
            Ok(local) => local.to_string_lossy().into_owned(),
            Err(e) => return vec![failed(url, e.to_string())],
        },
    };
    let single = |source| {
        vec![Unit {
            input_path: path.clone(),
            page_index: None,
            source,
        }]
    };
    let pages = |count: usize, source: Source| {
        (0..count)
            .map(|i| Unit {
                input_path: path.clone(),
                page_index: Some(i),
                source: source.clone(),
            })
            .collect()
    };
    match suffix(&path).as_deref() {
        Some("pdf") => match PdfDocument::open(Path::new(&path)) {
            Ok(doc) => pages(doc.page_count(), Source::PdfPage(doc)),
            Err(e) => vec![failed(&path, e)],
        },
        Some("tif" | "tiff") => match document::tiff_frame_count(Path::new(&path)) {
            Ok(n) if n > 1 => pages(n, Source::TiffFrame),
            _ => single(Source::Image),
        },
        _ => single(Source::Image),
    }
}

fn failed(input_path: &str, reason: String) -> Unit {
    Unit {
        input_path: input_path.to_string(),
        page_index: None,
        source: Source::Failed(reason),
    }
}

/// Reads a unit's pixels as RGB8; the error is a one-line reason.
pub(crate) fn load(unit: &Unit) -> Result<RgbImage, String> {
    load_reduced(unit, None).map(|(image, _)| image)
}

/// Like [`load`], but a JPEG image is decoded at the largest DCT reduction
/// that leaves it at least `reduce` (`--fast_decode`); returns the scale
/// used ([`Scale::FULL`] for PDF pages, TIFF frames and other formats).
pub(crate) fn load_reduced(
    unit: &Unit,
    reduce: Option<MinSize>,
) -> Result<(RgbImage, Scale), String> {
    let path = Path::new(&unit.input_path);
    let page = unit.page_index.unwrap_or(0);
    let full = |image| (image, Scale::FULL);
    match &unit.source {
        Source::Failed(reason) => Err(reason.clone()),
        Source::PdfPage(doc) => doc.render_page(page).map(full),
        Source::Pixels(image) => Ok(full(RgbImage::clone(image))),
        Source::TiffFrame => document::decode_tiff_frame(path, page).map(full),
        Source::Image => {
            check_file_type(&unit.input_path)?;
            decode_file_reduced(path, reduce).map_err(|e| match e {
                DecodeError::NotFound if path.is_dir() => "is a directory".into(),
                other => other.to_string(),
            })
        }
    }
}

/// Refuses files whose suffix is not an image type (PaddleX's input rule).
fn check_file_type(path: &str) -> Result<(), String> {
    if has_image_suffix(path) {
        return Ok(());
    }
    match suffix(path) {
        Some(s) => Err(format!(
            "unsupported file type `.{s}`; supported: {}, pdf",
            IMAGE_SUFFIXES.join(", ")
        )),
        None if !Path::new(path).exists() => Err(DecodeError::NotFound.to_string()),
        None => Err(format!(
            "no file suffix; supported: {}, pdf",
            IMAGE_SUFFIXES.join(", ")
        )),
    }
}

/// Expands one `--input` value into the items to classify, in order.
pub fn expand(input: &str) -> Result<Vec<InputItem>, InputError> {
    if is_url(input) {
        return Ok(vec![InputItem::Url(input.to_string())]);
    }
    let path = Path::new(input);
    if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        let mut names: Vec<String> = files
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        // Plain code-point order of the whole path, as Python's sorted().
        names.sort();
        if names.is_empty() {
            return Err(InputError::EmptyDir(input.to_string()));
        }
        return Ok(names.into_iter().map(InputItem::File).collect());
    }
    Ok(vec![InputItem::File(input.to_string())])
}

/// Whether `text` is an http(s) URL.
pub fn is_url(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Whether a file name has a supported image suffix.
pub(crate) fn has_image_suffix(path: &str) -> bool {
    suffix(path).is_some_and(|s| IMAGE_SUFFIXES.contains(&s.as_str()))
}

/// The lower-cased text after the last `.` of the file name.
pub(crate) fn suffix(path: &str) -> Option<String> {
    Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| InputError::ListDir {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        // Like os.walk: descend into real folders, not into links to folders.
        let is_real_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_real_dir {
            walk(&path, out)?;
        } else if has_image_suffix(&path.to_string_lossy())
            || suffix(&path.to_string_lossy()).as_deref() == Some("pdf")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Downloads `url` to `<cache>/predict_input/<url key>/<file name>` (the
/// folder named by [`url_key`] gives each URL a file of its own, so two URLs
/// ending in the same name are two images) and returns the local path; gives
/// up, leaving no partial file, once `cancel` is set. The body is written to
/// a temporary file beside the destination as it arrives, never held in
/// memory whole, and renamed over any older copy once complete.
pub(crate) fn download_cancellable(url: &str, cancel: &AtomicBool) -> Result<PathBuf, InputError> {
    let fail = |m: String| InputError::Download(m);
    let mut response = download_client()
        .map_err(fail)?
        .get(url)
        .send()
        .map_err(|e| fail(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("HTTP {status}")));
    }
    let too_large = || fail(format!("larger than {MAX_DOWNLOAD_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOWNLOAD_BYTES)
    {
        return Err(too_large());
    }
    let dest = cache_home()
        .join("predict_input")
        .join(url_key(url))
        .join(url_file_name(url));
    // Through the one atomic writer: written as it arrives, renamed once
    // whole; an early return leaves no partial file.
    let mut failure = None;
    let written = write_atomically(&dest, |w| {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                failure = Some(fail("cancelled".into()));
                return Err("cancelled".into());
            }
            let n = match response.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    failure = Some(fail(e.to_string()));
                    return Err(e.to_string());
                }
            };
            if n == 0 {
                return Ok(());
            }
            total += n as u64;
            if total > MAX_DOWNLOAD_BYTES {
                failure = Some(too_large());
                return Err("too large".into());
            }
            w.write_all(&buf[..n]).map_err(|e| e.to_string())?;
        }
    });
    match (written, failure) {
        (_, Some(reason)) => Err(reason),
        (Err(e), None) => Err(fail(e.to_string())),
        (Ok(()), None) => Ok(dest),
    }
}

/// The HTTP client of URL inputs, built once (TLS set-up and a runtime
/// thread each) and shared by the concurrent downloads, whose connections it
/// reuses.
fn download_client() -> Result<reqwest::blocking::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::blocking::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(15))
                .timeout(Duration::from_secs(120))
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
}

/// 16 hex digits of the URL's SHA-256: the download folder of that URL.
pub(crate) fn url_key(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The last path segment of a URL, without query or fragment (`download`
/// when there is none, or when it is `.` or `..`).
pub(crate) fn url_file_name(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let after_scheme = without_query
        .split_once("://")
        .map_or(without_query, |(_, rest)| rest);
    let name = after_scheme
        .split_once('/')
        .map_or("", |(_, path)| path)
        .rsplit('/')
        .next()
        .unwrap_or("");
    if matches!(name, "" | "." | "..") {
        "download".into()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_memory_image_loads_as_itself() {
        let image = RgbImage::from_fn(3, 2, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let unit = Unit {
            input_path: String::new(),
            page_index: None,
            source: Source::Pixels(std::sync::Arc::new(image.clone())),
        };
        assert_eq!(load(&unit).unwrap(), image);
    }

    #[test]
    fn folders_are_walked_recursively_and_sorted_by_code_point() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub")).unwrap();
        for f in ["b.jpg", "A.PNG", "sub/c.bmp", "notes.txt", "d.webp"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        let items = expand(&d.to_string_lossy()).unwrap();
        let names: Vec<String> = items
            .iter()
            .map(|i| {
                Path::new(i.display())
                    .strip_prefix(d)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["A.PNG", "b.jpg", "d.webp", "sub/c.bmp"]);
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = expand(&dir.path().to_string_lossy()).unwrap_err();
        assert!(err.to_string().starts_with("Not found any file in"));
    }

    #[test]
    fn several_inputs_and_stdin_lists_keep_their_order() {
        let stdin = std::io::Cursor::new("b.png\n\n  c.jpg \nhttp://h/d.png\n");
        let items = expand_all(&["a.png".into(), "-".into(), "e.png".into()], stdin).unwrap();
        let names: Vec<&str> = items.iter().map(InputItem::display).collect();
        assert_eq!(
            names,
            ["a.png", "b.png", "c.jpg", "http://h/d.png", "e.png"]
        );
    }

    #[test]
    fn shards_partition_the_list_exactly() {
        let items: Vec<InputItem> = (0..10)
            .map(|i| InputItem::File(format!("{i}.png")))
            .collect();
        let mut seen: Vec<InputItem> = (0..3).flat_map(|k| shard(items.clone(), k, 3)).collect();
        seen.sort_by(|a, b| a.display().cmp(b.display()));
        let mut all = items.clone();
        all.sort_by(|a, b| a.display().cmp(b.display()));
        assert_eq!(seen, all);
        assert_eq!(shard(items, 1, 3).len(), 3);
    }

    #[test]
    fn units_of_plain_files_and_failures() {
        let units = to_units(&[InputItem::File("x.png".into())]);
        assert_eq!(
            units,
            vec![Unit {
                input_path: "x.png".into(),
                page_index: None,
                source: Source::Image
            }]
        );
        assert_eq!(load(&units[0]).unwrap_err(), "No such file or directory");
        let bad = Unit {
            input_path: "n.txt".into(),
            page_index: None,
            source: Source::Image,
        };
        assert!(load(&bad)
            .unwrap_err()
            .starts_with("unsupported file type `.txt`"));
    }

    #[test]
    fn urls_and_files_pass_through() {
        assert_eq!(
            expand("https://h/x.jpg").unwrap(),
            vec![InputItem::Url("https://h/x.jpg".into())]
        );
        assert_eq!(
            expand("missing.png").unwrap(),
            vec![InputItem::File("missing.png".into())]
        );
        assert_eq!(url_file_name("http://h/a/b/cat.jpg?x=1"), "cat.jpg");
        assert_eq!(url_file_name("http://h/"), "download");
        assert_eq!(url_file_name("http://h/a/.."), "download");
        assert_eq!(url_key("http://a/x/img.png").len(), 16);
        assert_ne!(url_key("http://a/x/img.png"), url_key("http://a/y/img.png"));
        assert!(has_image_suffix("x.TIFF"));
        assert!(!has_image_suffix("x.gif"));
    }
}
