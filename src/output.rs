//! Saving results like PaddleX's `save_all`: `<stem>_res.json` and
//! `<stem>_res.<input suffix>` with the visualisation (the CLI writes the
//! JSON last, as the mark of a complete result). Every file is written
//! to a temporary name in the target folder and renamed, so an interrupted
//! run never leaves a half-written file under a final name.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};

use crate::imaging::jpeg;
use crate::result::Classification;
use crate::visualize::visual::JPEG_QUALITY;
use crate::visualize::Visual;

use crate::atomic_file::{write_atomically, WriteError};

/// Where one result's two files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths {
    /// The JSON file.
    pub json: PathBuf,
    /// The visualisation.
    pub image: PathBuf,
}

/// Image suffixes PaddleX keeps for the visualisation (others become `.png`).
const IMAGE_SUFFIXES: &[&str] = &[
    "jpg", "jpeg", "png", "bmp", "dib", "webp", "tif", "tiff", "pbm", "pgm", "ppm", "pnm",
];

/// Decides the output paths for a result, PaddleX's way: a `--save_path`
/// ending in `.json` or an image suffix is the file itself; otherwise a folder.
pub fn output_paths(save_path: &Path, input_path: &str, page_index: Option<usize>) -> OutputPaths {
    let input = Path::new(input_path);
    let mut stem = input
        .file_stem()
        .map_or_else(|| "res".into(), |s| s.to_string_lossy().into_owned());
    if let Some(page) = page_index {
        stem = format!("{stem}_{page}");
    }
    let in_suffix = input.extension().map(|e| e.to_string_lossy().into_owned());
    let image_suffix = in_suffix
        .filter(|s| IMAGE_SUFFIXES.contains(&s.to_ascii_lowercase().as_str()))
        .unwrap_or_else(|| "png".into());
    let save_suffix = save_path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let json = match save_suffix.as_deref() {
        Some("json") => save_path.to_path_buf(),
        _ => folder_of(save_path).join(format!("{stem}_res.json")),
    };
    let image = match save_suffix.as_deref() {
        Some(s) if IMAGE_SUFFIXES.contains(&s) => save_path.to_path_buf(),
        _ => folder_of(save_path).join(format!("{stem}_res.{image_suffix}")),
    };
    OutputPaths { json, image }
}

/// With a file-like save path (`x.json`), the other file goes beside it.
fn folder_of(save_path: &Path) -> PathBuf {
    let is_file_like = save_path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "json" || IMAGE_SUFFIXES.contains(&e.as_str()));
    if is_file_like {
        save_path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        save_path.to_path_buf()
    }
}

/// Writes the JSON of `res` to `path`.
pub(crate) fn save_json(res: &Classification, path: &Path) -> Result<(), WriteError> {
    write_text(path, &crate::result::json::result_json(res))
}

/// [`save_json`] with `input_path` written as given (`null` for an image
/// that came from memory, as PaddleX writes it for arrays).
pub fn save_json_as(
    res: &Classification,
    input_path: Option<&str>,
    path: &Path,
) -> Result<(), WriteError> {
    write_text(path, &crate::result::json::result_json_as(res, input_path))
}

fn write_text(path: &Path, text: &str) -> Result<(), WriteError> {
    write_atomically(path, |w| {
        w.write_all(text.as_bytes()).map_err(|e| e.to_string())
    })
}

/// Encodes `img` in the format its suffix names (Pillow's defaults where the
/// encoders allow: JPEG quality 75) and writes it to `path`.
pub fn save_image(img: &RgbImage, path: &Path) -> Result<(), WriteError> {
    let suffix = path
        .extension()
        .map_or(String::new(), |e| e.to_string_lossy().to_ascii_lowercase());
    write_atomically(path, |w| encode(img, &suffix, w))
}

fn encode(img: &RgbImage, suffix: &str, w: &mut BufWriter<std::fs::File>) -> Result<(), String> {
    let result = match suffix {
        "jpg" | "jpeg" => return encode_jpeg(img, w),
        "pbm" | "pgm" | "ppm" | "pnm" => {
            // Pillow writes an RGB image as binary PPM whatever the PNM suffix.
            let encoder = image::codecs::pnm::PnmEncoder::new(&mut *w).with_subtype(
                image::codecs::pnm::PnmSubtype::Pixmap(image::codecs::pnm::SampleEncoding::Binary),
            );
            image::ImageEncoder::write_image(
                encoder,
                img.as_raw(),
                img.width(),
                img.height(),
                image::ExtendedColorType::Rgb8,
            )
        }
        other => {
            let format = match other {
                "bmp" | "dib" => ImageFormat::Bmp,
                "webp" => ImageFormat::WebP,
                "tif" | "tiff" => ImageFormat::Tiff,
                _ => ImageFormat::Png,
            };
            let mut buf = std::io::Cursor::new(Vec::new());
            img.write_to(&mut buf, format).and_then(|_| {
                w.write_all(buf.get_ref())
                    .map_err(image::ImageError::IoError)
            })
        }
    };
    result.map_err(|e| e.to_string())
}

/// JPEG with Pillow's defaults (quality 75, 4:2:0): encoding the
/// visualisation is the most expensive part of saving (see `image::jpeg`).
fn encode_jpeg(img: &RgbImage, w: &mut BufWriter<std::fs::File>) -> Result<(), String> {
    let bytes = jpeg::encode(img.as_raw(), img.width(), img.height(), JPEG_QUALITY)
        .map_err(|e| e.to_string())?;
    w.write_all(&bytes).map_err(|e| e.to_string())
}

/// Writes an already encoded file (a finished [`crate::visualize::visual::PartialJpeg`]).
pub(crate) fn save_encoded(bytes: &[u8], path: &Path) -> Result<(), WriteError> {
    write_atomically(path, |w| w.write_all(bytes).map_err(|e| e.to_string()))
}

/// Whether a visualisation saved at `path` is a JPEG (by its suffix).
pub fn is_jpeg(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "jpg" || e == "jpeg")
}

/// Draws the label of `res` (top-1 name and score) on `visual` and writes
/// it to `path`, encoded as the suffix says: the CLI's visualisation bytes.
/// Keep a JPEG's pixels with [`Visual::for_jpeg`] and others' with
/// [`Visual::Pixels`].
pub fn save_visual(res: &Classification, visual: Visual, path: &Path) -> Result<(), String> {
    let (label, score) = match (res.label_names.first(), res.scores.first()) {
        (Some(l), Some(s)) => (l.as_str(), *s),
        _ => ("", 0.0),
    };
    let text = crate::visualize::label_text(label, score);
    let saved = match visual {
        Visual::Jpeg(partial) => save_encoded(&partial.finish(&text), path),
        Visual::Pixels(mut image) => {
            crate::visualize::draw_label_in_place(&mut image, &text);
            let saved = save_image(&image, path);
            // The CLI saves on the same pool threads as it decodes: the next
            // decode on this thread reuses the pixels. Elsewhere (a Python
            // caller's thread) nothing would reuse them.
            if rayon::current_thread_index().is_some() {
                crate::imaging::decode::recycle(image);
            }
            saved
        }
    };
    saved.map_err(|e| e.to_string())
}

/// Remembers which input wrote each output file, to warn about collisions
/// (`a.jpg` and `a.png` both write `a_res.json`).
#[derive(Default)]
pub(crate) struct CollisionGuard {
    seen: HashMap<PathBuf, String>,
}

impl CollisionGuard {
    /// Records `path` for `input`; returns the earlier input if another one wrote it.
    pub(crate) fn claim(&mut self, path: &Path, input: &str) -> Option<String> {
        match self.seen.insert(path.to_path_buf(), input.to_string()) {
            Some(prev) if prev != input => Some(prev),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_paddlex_naming() {
        let p = output_paths(Path::new("out"), "imgs/A.PNG", None);
        assert_eq!(p.json, PathBuf::from("out/A_res.json"));
        assert_eq!(p.image, PathBuf::from("out/A_res.PNG"));
        let p = output_paths(Path::new("out"), "doc.pdf", Some(3));
        assert_eq!(p.json, PathBuf::from("out/doc_3_res.json"));
        assert_eq!(p.image, PathBuf::from("out/doc_3_res.png"));
        let p = output_paths(Path::new("r/x.json"), "a.jpg", None);
        assert_eq!(p.json, PathBuf::from("r/x.json"));
        assert_eq!(p.image, PathBuf::from("r/a_res.jpg"));
        let p = output_paths(Path::new("v.png"), "a.jpg", None);
        assert_eq!(p.image, PathBuf::from("v.png"));
        assert_eq!(p.json, PathBuf::from("a_res.json"));
    }

    #[test]
    fn writes_are_atomic_and_leave_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_pixel(4, 3, image::Rgb([9, 8, 7]));
        for suffix in ["png", "jpg", "bmp", "webp", "tiff", "ppm", "pgm"] {
            let path = dir.path().join(format!("sub/x_res.{suffix}"));
            save_image(&img, &path).unwrap();
            let back = image::open(&path).unwrap();
            assert_eq!((back.width(), back.height()), (4, 3), "{suffix}");
        }
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(names
            .iter()
            .all(|n| !n.to_string_lossy().ends_with(".part")));
    }

    #[test]
    fn collisions_are_reported_once_per_other_input() {
        let mut g = CollisionGuard::default();
        assert_eq!(g.claim(Path::new("o/a_res.json"), "a.jpg"), None);
        assert_eq!(
            g.claim(Path::new("o/a_res.json"), "a.png"),
            Some("a.jpg".into())
        );
    }
}
