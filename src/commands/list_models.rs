//! `paddlex --list_models`: every model name this build knows, and whether it
//! is installed, can be fetched, or needs converting from Paddle.

use std::io::Write;

use crate::exit_codes::ExitCode;
use crate::model::cache::official_models_dir;
use crate::model::registry::{self, known_names};

/// Prints the table on stdout.
pub fn run() -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<42} {:>6} {:>9}  {:<32} STATUS",
        "MODEL", "TOP-1", "SIZE", "PREPROCESSING"
    )?;
    for name in known_names() {
        writeln!(out, "{}", row(name))?;
    }
    writeln!(out, "\nModels live in {}.", official_models_dir().display())?;
    Ok(ExitCode::Success)
}

/// One table row.
pub fn row(name: &str) -> String {
    let imagenet = registry::imagenet_model(name);
    let top1 = imagenet.map_or("-".to_string(), |m| format!("{:.2}", m.top1));
    let size = imagenet.map_or("-", |m| m.size);
    let pre = imagenet.map_or("from inference.yml".to_string(), |m| m.preset.describe());
    format!("{name:<42} {top1:>6} {size:>9}  {pre:<32} {}", status(name))
}

fn status(name: &str) -> String {
    if official_models_dir()
        .join(name)
        .join("inference.onnx")
        .is_file()
    {
        return "installed".into();
    }
    match registry::find(name).and_then(|e| e.recipe) {
        Some(r) => format!(
            "fetched on first use ({}=={})",
            r.source.package, r.source.version
        ),
        None => "convert from Paddle (see README)".into(),
    }
}
