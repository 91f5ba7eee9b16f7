//! The command line: clap's raw flags (PaddleX's names and meanings), turned
//! into one validated [`Command`].

use std::path::PathBuf;

use clap::Parser;

/// PaddleX's description, shown at the top of `--help`.
pub const ABOUT: &str = "Command-line interface for PaddleX. Use the options below to install plugins, run pipeline predictions, or start the serving application.";

/// The raw flags, as PaddleX spells them.
#[derive(Debug, Parser)]
#[command(name = "paddlex", version, about = ABOUT)]
pub struct RawArgs {
    /// Name of the pipeline to execute for prediction.
    #[arg(long, help_heading = "Pipeline Predict Options")]
    pub pipeline: Option<String>,
    /// Input data or path for the pipeline, supports specific file and directory.
    #[arg(long, help_heading = "Pipeline Predict Options")]
    pub input: Option<String>,
    /// Path to save the prediction results.
    #[arg(long = "save_path", help_heading = "Pipeline Predict Options")]
    pub save_path: Option<PathBuf>,
    /// Inference engine (only `onnxruntime` in this build).
    #[arg(long, help_heading = "Pipeline Predict Options")]
    pub engine: Option<String>,
    /// Device to run the pipeline on (e.g., 'cpu', 'gpu:0').
    #[arg(long, help_heading = "Pipeline Predict Options")]
    pub device: Option<String>,
    /// Use high-performance inference plugin.
    #[arg(long = "use_hpip", help_heading = "Pipeline Predict Options")]
    pub use_hpip: bool,
    /// High-performance inference configuration.
    #[arg(long = "hpi_config", help_heading = "Pipeline Predict Options")]
    pub hpi_config: Option<String>,
    /// Retrieve the configuration for a specified pipeline.
    #[arg(
        long = "get_pipeline_config",
        help_heading = "Pipeline Predict Options"
    )]
    pub get_pipeline_config: Option<String>,
    /// List the model names this build knows and which are installed.
    #[arg(long = "list_models", help_heading = "Pipeline Predict Options")]
    pub list_models: bool,
    /// Start the serving application to handle requests.
    #[arg(long, help_heading = "Serving Options")]
    pub serve: bool,
    /// Host address to serve on (default: 0.0.0.0).
    #[arg(long, default_value = "0.0.0.0", help_heading = "Serving Options")]
    pub host: String,
    /// Port number to serve on (default: 8080).
    #[arg(long, default_value_t = 8080, help_heading = "Serving Options")]
    pub port: u16,
    /// Sets the Top-K value for image classification.
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Image_classification Pipeline Options"
    )]
    pub topk: Option<i64>,
}

/// What the user asked for, validated.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Classify `input` with the pipeline.
    Predict(PredictArgs),
    /// List the known models.
    ListModels,
    /// Serve the pipeline over HTTP.
    Serve(ServeArgs),
    /// Write the pipeline's YAML.
    GetPipelineConfig {
        /// Pipeline name.
        name: String,
        /// Target file or folder; `None` asks on stdin.
        save_path: Option<PathBuf>,
    },
}

/// Everything a prediction run needs from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictArgs {
    /// `--pipeline`.
    pub pipeline: String,
    /// `--input`; `None` classifies nothing (PaddleX exits 0).
    pub input: Option<String>,
    /// `--save_path`.
    pub save_path: Option<PathBuf>,
    /// `--device`, unparsed.
    pub device: Option<String>,
    /// `--topk`.
    pub topk: Option<i64>,
}

/// Everything `--serve` needs from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeArgs {
    /// `--pipeline`.
    pub pipeline: String,
    /// `--device`, unparsed.
    pub device: Option<String>,
    /// `--host`.
    pub host: String,
    /// `--port` (0 picks a free port).
    pub port: u16,
}

/// A command line that parses but asks for something wrong or unavailable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// Wrong usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A feature this build does not have yet (exit 1).
    #[error("{0}")]
    NotSupported(String),
}

impl Command {
    /// Validates raw flags into a command.
    pub fn from_raw(raw: RawArgs) -> Result<Self, CliError> {
        if raw.use_hpip || raw.hpi_config.is_some() {
            return Err(not_yet(
                "--use_hpip / --hpi_config (high-performance inference backends)",
            ));
        }
        if let Some(engine) = &raw.engine {
            if engine != "onnxruntime" {
                return Err(CliError::NotSupported(format!(
                    "--engine {engine}: this build runs ONNX models with ONNX Runtime only; use --engine onnxruntime or leave it out"
                )));
            }
        }
        if raw.serve {
            let Some(pipeline) = raw.pipeline else {
                return Err(CliError::Usage(
                    "--serve needs --pipeline (image_classification or a pipeline YAML)".into(),
                ));
            };
            return Ok(Command::Serve(ServeArgs {
                pipeline,
                device: raw.device,
                host: raw.host,
                port: raw.port,
            }));
        }
        if raw.list_models {
            return Ok(Command::ListModels);
        }
        if let Some(name) = raw.get_pipeline_config {
            return Ok(Command::GetPipelineConfig {
                name,
                save_path: raw.save_path,
            });
        }
        let Some(pipeline) = raw.pipeline else {
            return Err(CliError::Usage(
                "nothing to do: give --pipeline (with --input), or --get_pipeline_config; see --help".into(),
            ));
        };
        if let Some(k) = raw.topk.filter(|k| *k < 0) {
            return Err(CliError::Usage(format!(
                "argument --topk: must be >= 0, got {k}"
            )));
        }
        Ok(Command::Predict(PredictArgs {
            pipeline,
            input: raw.input,
            save_path: raw.save_path,
            device: raw.device,
            topk: raw.topk,
        }))
    }
}

fn not_yet(what: &str) -> CliError {
    CliError::NotSupported(format!("{what} is not yet supported by paddlex-rs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, CliError> {
        let raw = RawArgs::try_parse_from(std::iter::once("paddlex").chain(args.iter().copied()))
            .unwrap();
        Command::from_raw(raw)
    }

    #[test]
    fn prediction_flags() {
        let cmd = parse(&[
            "--pipeline",
            "image_classification",
            "--input",
            "a.jpg",
            "--save_path",
            "out",
            "--topk",
            "2",
            "--device",
            "cpu",
        ])
        .unwrap();
        assert_eq!(
            cmd,
            Command::Predict(PredictArgs {
                pipeline: "image_classification".into(),
                input: Some("a.jpg".into()),
                save_path: Some("out".into()),
                device: Some("cpu".into()),
                topk: Some(2),
            })
        );
    }

    #[test]
    fn pipeline_config_flag() {
        let cmd = parse(&[
            "--get_pipeline_config",
            "image_classification",
            "--save_path",
            "c.yaml",
        ])
        .unwrap();
        assert_eq!(
            cmd,
            Command::GetPipelineConfig {
                name: "image_classification".into(),
                save_path: Some("c.yaml".into())
            }
        );
    }

    #[test]
    fn unsupported_features_say_so() {
        for args in [
            &["--use_hpip", "--pipeline", "x"][..],
            &["--serve", "--use_hpip", "--pipeline", "x"],
            &["--hpi_config", "{}", "--pipeline", "x"],
        ] {
            let err = parse(args).unwrap_err();
            assert!(matches!(err, CliError::NotSupported(_)), "{args:?}");
            assert!(err.to_string().contains("not yet supported"));
        }
        let err = parse(&["--engine", "paddle", "--pipeline", "x"]).unwrap_err();
        assert!(err.to_string().contains("--engine paddle"));
        assert!(parse(&["--engine", "onnxruntime", "--pipeline", "x"]).is_ok());
    }

    #[test]
    fn serve_flags() {
        let cmd = parse(&[
            "--serve",
            "--pipeline",
            "image_classification",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--device",
            "cpu",
        ])
        .unwrap();
        assert_eq!(
            cmd,
            Command::Serve(ServeArgs {
                pipeline: "image_classification".into(),
                device: Some("cpu".into()),
                host: "127.0.0.1".into(),
                port: 0,
            })
        );
        let Command::Serve(defaults) = parse(&["--serve", "--pipeline", "p.yaml"]).unwrap() else {
            panic!("not serve");
        };
        assert_eq!((defaults.host.as_str(), defaults.port), ("0.0.0.0", 8080));
        assert!(matches!(parse(&["--serve"]), Err(CliError::Usage(_))));
    }

    #[test]
    fn usage_errors() {
        assert!(matches!(
            parse(&["--input", "a.jpg"]),
            Err(CliError::Usage(_))
        ));
        assert!(matches!(
            parse(&["--pipeline", "p", "--topk", "-1"]),
            Err(CliError::Usage(_))
        ));
        assert!(RawArgs::try_parse_from(["paddlex", "--topk", "abc"]).is_err());
        assert!(RawArgs::try_parse_from(["paddlex", "--bogus"]).is_err());
    }
}
