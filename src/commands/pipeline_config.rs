//! `paddlex --get_pipeline_config image_classification [--save_path P]`:
//! write the packaged pipeline YAML where the user wants it.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::{DEFAULT_CONFIG_YAML, PIPELINE_NAME};
use crate::exit_codes::ExitCode;
use crate::log;

/// Writes the config file; asks before overwriting when stdin is a terminal.
pub(crate) fn run(name: &str, save_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    if name != PIPELINE_NAME {
        bail!("The pipeline ({name}) does not exist! The pipelines this build provides: {PIPELINE_NAME}");
    }
    let target = match save_path {
        Some(p) => p.to_path_buf(),
        None => ask_target()?,
    };
    let file = target_file(&target, name);
    if file.exists() && !confirm_overwrite(&file)? {
        log::warn("Exit!");
        return Ok(ExitCode::Success);
    }
    write_config(&file)?;
    log::info(&format!(
        "The pipeline config has been saved to: {}",
        file.display()
    ));
    Ok(ExitCode::Success)
}

/// A `.yaml`/`.yml` target is the file itself; anything else is a folder.
pub(crate) fn target_file(target: &Path, name: &str) -> PathBuf {
    let is_yaml = target
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "yaml" || e == "yml");
    if is_yaml {
        target.to_path_buf()
    } else if target == Path::new(".") {
        PathBuf::from(format!("{name}.yaml"))
    } else {
        target.join(format!("{name}.yaml"))
    }
}

/// PaddleX's prompt for the target; an empty answer (or no input) means `./`.
fn ask_target() -> anyhow::Result<PathBuf> {
    log::info(
        "Please enter the path that you want to save the pipeline config file: (default `./`)",
    );
    let line = read_line()?;
    let answer = line.trim();
    Ok(PathBuf::from(if answer.is_empty() { "." } else { answer }))
}

/// Asks on a terminal; refuses to overwrite without one.
fn confirm_overwrite(file: &Path) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "{} already exists; not overwriting it without confirmation (stdin is not a terminal): remove it first or choose another --save_path",
            file.display()
        );
    }
    log::info(&format!(
        "The file({}) already exists. Is it covered? (y/N):",
        file.display()
    ));
    let answer = read_line()?;
    Ok(matches!(answer.trim(), "y" | "Y"))
}

fn read_line() -> anyhow::Result<String> {
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading stdin")?;
    Ok(line)
}

/// Creates the parent folders and writes the file atomically.
fn write_config(file: &Path) -> anyhow::Result<()> {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("Failed to create directory: {}", parent.display()))?;
    crate::atomic_file::write_atomically(file, |w| {
        w.write_all(DEFAULT_CONFIG_YAML.as_bytes())
            .map_err(|e| e.to_string())
    })
    .with_context(|| format!("File saving failed: {}", file.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_naming_like_paddlex() {
        assert_eq!(
            target_file(Path::new("my.yml"), "image_classification"),
            PathBuf::from("my.yml")
        );
        assert_eq!(
            target_file(Path::new("cfgdir"), "image_classification"),
            PathBuf::from("cfgdir/image_classification.yaml")
        );
        assert_eq!(
            target_file(Path::new("."), "image_classification"),
            PathBuf::from("image_classification.yaml")
        );
    }
}
