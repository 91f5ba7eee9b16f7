//! `paddlex --list_models`: every model name this build knows, where it is
//! fetched from on first use, and whether it is already in the cache.

use std::io::Write;

use crate::cache::official_models_dir;
use crate::exit_codes::ExitCode;
use crate::model::official::{self, Mirror, BOS_BASE_URL, MIRROR_ENV};
use crate::model::registry::{self, known_names};

/// Prints the table on stdout.
pub(crate) fn run() -> anyhow::Result<ExitCode> {
    let mirror = Mirror::from_env();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<42} {:>6} {:>9}  {:<34} {:<6} SOURCE",
        "MODEL", "TOP-1", "SIZE", "PREPROCESSING", "CACHED"
    )?;
    for name in known_names() {
        writeln!(out, "{}", row(name, mirror.as_ref()))?;
    }
    writeln!(out)?;
    writeln!(out, "Models live in {}.", official_models_dir().display())?;
    writeln!(
        out,
        "Package index models are fetched with pip (your pip configuration applies)."
    )?;
    match &mirror {
        Some(m) => writeln!(
            out,
            "Paddle-format models are fetched from the mirror {} ({MIRROR_ENV}) as <model>_infer.tar.",
            m.describe()
        )?,
        None => writeln!(
            out,
            "Paddle-format models are fetched from {BOS_BASE_URL}/<model>_infer.tar without Python; set {MIRROR_ENV} to a URL or folder to fetch them from elsewhere."
        )?,
    }
    Ok(ExitCode::Success)
}

/// One table row.
pub(crate) fn row(name: &str, mirror: Option<&Mirror>) -> String {
    let imagenet = registry::imagenet_model(name);
    let top1 = imagenet.map_or("-".to_string(), |m| format!("{:.2}", m.top1));
    let size = imagenet.map_or("-", |m| m.size);
    let pre = imagenet.map_or("from inference.yml".to_string(), |m| m.preset.describe());
    let cached = if official_models_dir().join(name).exists() {
        "yes"
    } else {
        "no"
    };
    format!(
        "{name:<42} {top1:>6} {size:>9}  {pre:<34} {cached:<6} {}",
        source(name, mirror)
    )
}

/// Where `name` comes from when it is not cached.
fn source(name: &str, mirror: Option<&Mirror>) -> String {
    if let Some(recipe) = registry::find(name).and_then(|e| e.recipe) {
        return format!(
            "package index wheel ({}=={})",
            recipe.source.package, recipe.source.version
        );
    }
    if !official::is_official(name) {
        return "-".into();
    }
    let host = if mirror.is_some() {
        "mirror"
    } else {
        "PaddleX host"
    };
    format!("{host} (Paddle format, converted on first use)")
}
