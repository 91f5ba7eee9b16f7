//! The pipeline config: PaddleX's `image_classification.yaml`, embedded in the
//! binary, or a user's YAML file given to `--pipeline`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The one pipeline this build runs.
pub(crate) const PIPELINE_NAME: &str = "image_classification";

/// The packaged config, byte for byte what `--get_pipeline_config` writes.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("../configs/image_classification.yaml");

/// Why a pipeline config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `--pipeline` named something that is neither a known pipeline nor a YAML path.
    #[error(
        "The pipeline ({0}) does not exist! Please use a pipeline name or a config file path!"
    )]
    UnknownPipeline(String),
    /// The YAML names a pipeline this build does not implement.
    #[error(
        "Unsupported pipeline: {0}, CLI predict only supports these pipelines: {PIPELINE_NAME}"
    )]
    UnsupportedPipeline(String),
    /// The YAML file could not be read.
    #[error("cannot read the pipeline config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML is malformed or misses a required key.
    #[error("invalid pipeline config {origin}: {message}")]
    Invalid {
        /// Where it came from (a path or "the built-in config").
        origin: String,
        /// What is wrong.
        message: String,
    },
}

/// `SubModules.ImageClassification` of the pipeline YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct ModuleConfig {
    /// PaddleX model name, e.g. `EfficientNet-Lite0`; must match `Global.model_name` in inference.yml.
    pub model_name: String,
    /// A local model directory; `None` resolves the official cache.
    pub model_dir: Option<PathBuf>,
    /// Images per inference call (PaddleX default 1 when absent).
    pub batch_size: usize,
    /// Default top-k; `None` or 0 defers to inference.yml.
    pub topk: Option<i64>,
}

/// The whole pipeline config, as this build reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// `pipeline_name`.
    pub pipeline_name: String,
    /// Top-level `use_hpip` (default false).
    pub use_hpip: bool,
    /// Top-level `hpi_config`, kept raw for the HPI issue.
    pub hpi_config: Option<serde_yaml::Value>,
    /// `Serving.visualize` (default true).
    pub serving_visualize: bool,
    /// The classification module.
    pub module: ModuleConfig,
}

#[derive(Deserialize)]
struct RawConfig {
    pipeline_name: Option<String>,
    #[serde(default)]
    use_hpip: Option<bool>,
    #[serde(default)]
    hpi_config: Option<serde_yaml::Value>,
    #[serde(rename = "Serving", default)]
    serving: Option<RawServing>,
    #[serde(rename = "SubModules")]
    sub_modules: Option<RawSubModules>,
}

#[derive(Deserialize)]
struct RawServing {
    visualize: Option<bool>,
}

#[derive(Deserialize)]
struct RawSubModules {
    #[serde(rename = "ImageClassification")]
    image_classification: Option<RawModule>,
}

#[derive(Deserialize)]
struct RawModule {
    model_name: Option<String>,
    model_dir: Option<PathBuf>,
    batch_size: Option<i64>,
    topk: Option<i64>,
}

impl PipelineConfig {
    /// The packaged default config.
    pub fn builtin() -> Result<Self, ConfigError> {
        Self::parse(DEFAULT_CONFIG_YAML, "the built-in config")
    }

    /// Resolves PaddleX's `--pipeline` value: a `.yml`/`.yaml` path, or a pipeline name.
    pub fn from_pipeline_arg(arg: &str) -> Result<Self, ConfigError> {
        let lower = arg.to_ascii_lowercase();
        if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            return Self::load(Path::new(arg));
        }
        if arg == PIPELINE_NAME {
            return Self::builtin();
        }
        if Path::new(arg).is_file() {
            // PaddleX's CLI also accepts an existing file with another suffix.
            return Self::load(Path::new(arg));
        }
        Err(ConfigError::UnknownPipeline(arg.to_string()))
    }

    /// Loads a pipeline YAML file.
    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses YAML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let raw: RawConfig = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let pipeline_name = raw
            .pipeline_name
            .ok_or_else(|| invalid("missing key `pipeline_name`".into()))?;
        if pipeline_name != PIPELINE_NAME {
            return Err(ConfigError::UnsupportedPipeline(pipeline_name));
        }
        let module = raw
            .sub_modules
            .and_then(|s| s.image_classification)
            .ok_or_else(|| invalid("missing `SubModules.ImageClassification`".into()))?;
        let model_name = module
            .model_name
            .ok_or_else(|| invalid("missing `SubModules.ImageClassification.model_name`".into()))?;
        let batch_size = match module.batch_size {
            None => 1,
            Some(n) if n > 0 => n as usize,
            Some(n) => return Err(invalid(format!("batch_size must be > 0, got {n}"))),
        };
        Ok(PipelineConfig {
            pipeline_name,
            use_hpip: raw.use_hpip.unwrap_or(false),
            hpi_config: raw.hpi_config,
            serving_visualize: raw.serving.and_then(|s| s.visualize).unwrap_or(true),
            module: ModuleConfig {
                model_name,
                model_dir: module.model_dir,
                batch_size,
                topk: module.topk,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_config_matches_paddlex_keys() {
        let cfg = PipelineConfig::builtin().unwrap();
        assert_eq!(cfg.pipeline_name, "image_classification");
        assert_eq!(cfg.module.model_name, "EfficientNet-Lite0");
        assert_eq!(cfg.module.model_dir, None);
        assert_eq!(cfg.module.batch_size, 4);
        assert_eq!(cfg.module.topk, Some(5));
        assert!(cfg.serving_visualize);
        assert!(!cfg.use_hpip);
    }

    #[test]
    fn builtin_file_keeps_paddlex_layout() {
        // Leading empty line and the trailing space after `topk: 5`, as PaddleX ships it.
        assert!(DEFAULT_CONFIG_YAML.starts_with("\npipeline_name: image_classification\n"));
        assert!(DEFAULT_CONFIG_YAML.ends_with("    topk: 5 \n"));
    }

    #[test]
    fn user_yaml_with_model_dir_and_no_batch_size() {
        let text = "pipeline_name: image_classification\nSubModules:\n  ImageClassification:\n    model_name: M\n    model_dir: ./m\n    topk: null\nServing:\n  visualize: false\n";
        let cfg = PipelineConfig::parse(text, "t").unwrap();
        assert_eq!(cfg.module.model_dir, Some(PathBuf::from("./m")));
        assert_eq!(cfg.module.batch_size, 1);
        assert_eq!(cfg.module.topk, None);
        assert!(!cfg.serving_visualize);
    }

    #[test]
    fn other_pipelines_and_bad_values_are_refused() {
        let err = PipelineConfig::parse("pipeline_name: OCR\n", "t").unwrap_err();
        assert!(err.to_string().starts_with("Unsupported pipeline: OCR"));
        let err = PipelineConfig::parse(
            "pipeline_name: image_classification\nSubModules:\n  ImageClassification:\n    model_name: M\n    batch_size: 0\n",
            "t",
        )
        .unwrap_err();
        assert!(err.to_string().contains("batch_size must be > 0"));
        let err = PipelineConfig::from_pipeline_arg("no_such_pipeline").unwrap_err();
        assert!(err
            .to_string()
            .contains("The pipeline (no_such_pipeline) does not exist!"));
    }
}
