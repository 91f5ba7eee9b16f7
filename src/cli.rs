//! The command line: clap's raw flags (PaddleX's names and meanings), turned
//! into one validated [`Command`].

use std::path::PathBuf;

use clap::Parser;

use crate::report::Format;

/// PaddleX's description, shown at the top of `--help`.
pub(crate) const ABOUT: &str = "Command-line interface for PaddleX. Use the options below to install plugins, run pipeline predictions, or start the serving application.";

/// The raw flags, as PaddleX spells them.
#[derive(Debug, Parser)]
#[command(name = "paddlex", version, about = ABOUT)]
pub(crate) struct RawArgs {
    /// Name of the pipeline to execute for prediction.
    #[arg(long, help_heading = "Pipeline Predict Options")]
    pub pipeline: Option<String>,
    /// Input data or path for the pipeline, supports specific file and directory.
    /// Several values allowed (files, folders, URLs); `-` reads a list from stdin.
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append, help_heading = "Pipeline Predict Options")]
    pub input: Vec<String>,
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
    /// Convert a Paddle model (inference.json or inference.pdmodel, with inference.pdiparams) to ONNX.
    #[arg(long, help_heading = "Paddle2ONNX Options")]
    pub paddle2onnx: bool,
    /// Directory of the Paddle model to convert.
    #[arg(long = "paddle_model_dir", help_heading = "Paddle2ONNX Options")]
    pub paddle_model_dir: Option<PathBuf>,
    /// Where to write inference.onnx (default: the Paddle model's directory).
    #[arg(long = "onnx_model_dir", help_heading = "Paddle2ONNX Options")]
    pub onnx_model_dir: Option<PathBuf>,
    /// ONNX opset to write (13 to 21; default 17).
    #[arg(long = "opset_version", help_heading = "Paddle2ONNX Options")]
    pub opset_version: Option<i64>,
    /// Result format: PaddleX's line on stderr, or one JSON object / CSV row per input on stdout.
    #[arg(long, value_enum, default_value_t = FormatArg::Paddlex, help_heading = "Batch Options")]
    pub format: FormatArg,
    /// Process only shard K of N (0-based) of the input list, e.g. `--shard 0/4`.
    #[arg(long, value_name = "K/N", help_heading = "Batch Options")]
    pub shard: Option<String>,
    /// Skip inputs whose `<stem>_res.json` already exists under --save_path.
    #[arg(long = "skip_existing", help_heading = "Batch Options")]
    pub skip_existing: bool,
    /// Decode JPEGs at a reduced size (libjpeg's DCT scaling by 1/2, 1/4 or 1/8,
    /// never below twice what the model's resize needs): faster on large photos, but
    /// results then differ from PaddleX's (scores, and top-1 on near-ties).
    /// Saved visualisations stay full size. Also set by PADDLEX_RS_FAST_DECODE=1.
    /// Not used by --serve.
    #[arg(long = "fast_decode", help_heading = "Batch Options")]
    pub fast_decode: bool,
    /// Sets the Top-K value for image classification.
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Image_classification Pipeline Options"
    )]
    pub topk: Option<i64>,
}

/// `--format`'s values (the report module's [`Format`], as clap parses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// PaddleX's `{'res': ...}` line on stderr.
    Paddlex,
    /// One JSON object per input on stdout.
    Jsonl,
    /// A CSV header, then one row per input on stdout.
    Csv,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Paddlex => Format::Paddlex,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// What the user asked for, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// Classify `input` with the pipeline.
    Predict(PredictArgs),
    /// List the known models.
    ListModels,
    /// Serve the pipeline over HTTP.
    Serve(ServeArgs),
    /// Convert a Paddle model to ONNX (`--paddle2onnx`).
    Paddle2Onnx {
        /// `--paddle_model_dir` (PaddleX checks it is given).
        paddle_model_dir: Option<PathBuf>,
        /// `--onnx_model_dir`, default the Paddle model's directory.
        onnx_model_dir: Option<PathBuf>,
        /// `--opset_version`.
        opset_version: Option<i64>,
    },
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
pub(crate) struct PredictArgs {
    /// `--pipeline`.
    pub pipeline: String,
    /// `--input` values; empty classifies nothing (PaddleX exits 0).
    pub inputs: Vec<String>,
    /// `--save_path`.
    pub save_path: Option<PathBuf>,
    /// `--device`, unparsed.
    pub device: Option<String>,
    /// `--topk`.
    pub topk: Option<i64>,
    /// `--format`.
    pub format: Format,
    /// `--shard K/N` as `(K, N)`.
    pub shard: Option<(usize, usize)>,
    /// `--skip_existing`.
    pub skip_existing: bool,
    /// `--fast_decode` or `PADDLEX_RS_FAST_DECODE=1`: reduced JPEG decodes.
    pub fast_decode: bool,
    /// `--use_hpip`.
    pub use_hpip: bool,
    /// `--hpi_config`, the Python literal as given.
    pub hpi_config: Option<String>,
}

/// Everything `--serve` needs from the command line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServeArgs {
    /// `--pipeline`.
    pub pipeline: String,
    /// `--device`, unparsed.
    pub device: Option<String>,
    /// `--host`.
    pub host: String,
    /// `--port` (0 picks a free port).
    pub port: u16,
    /// `--use_hpip`.
    pub use_hpip: bool,
    /// `--hpi_config`, the Python literal as given.
    pub hpi_config: Option<String>,
}

/// A command line that parses but asks for something wrong or unavailable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CliError {
    /// Wrong usage (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A feature this build does not have yet (exit 1).
    #[error("{0}")]
    NotSupported(String),
}

impl Command {
    /// Validates raw flags into a command.
    pub(crate) fn from_raw(raw: RawArgs) -> Result<Self, CliError> {
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
                use_hpip: raw.use_hpip,
                hpi_config: raw.hpi_config,
            }));
        }
        if raw.paddle2onnx {
            return Ok(Command::Paddle2Onnx {
                paddle_model_dir: raw.paddle_model_dir,
                onnx_model_dir: raw.onnx_model_dir,
                opset_version: raw.opset_version,
            });
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
        if raw.skip_existing && raw.save_path.is_none() {
            return Err(CliError::Usage(
                "argument --skip_existing: needs --save_path".into(),
            ));
        }
        let shard = raw.shard.as_deref().map(parse_shard).transpose()?;
        let fast_decode = raw.fast_decode
            || env_switch(
                FAST_DECODE_ENV,
                std::env::var(FAST_DECODE_ENV).ok().as_deref(),
            )?;
        Ok(Command::Predict(PredictArgs {
            pipeline,
            inputs: raw.input,
            save_path: raw.save_path,
            device: raw.device,
            topk: raw.topk,
            format: raw.format.into(),
            shard,
            skip_existing: raw.skip_existing,
            fast_decode,
            use_hpip: raw.use_hpip,
            hpi_config: raw.hpi_config,
        }))
    }
}

/// The environment variable that turns `--fast_decode` on.
pub(crate) const FAST_DECODE_ENV: &str = "PADDLEX_RS_FAST_DECODE";

/// An on/off environment variable's value: unset, empty, `0`, `false`,
/// `no` or `off` is off; `1`, `true`, `yes` or `on` is on (any case);
/// anything else is a usage error rather than a guess.
fn env_switch(name: &str, value: Option<&str>) -> Result<bool, CliError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("" | "0" | "false" | "no" | "off") => Ok(false),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some(other) => Err(CliError::Usage(format!(
            "{name}={other}: expected 1 (on) or 0 (off)"
        ))),
    }
}

/// `K/N` with 0 <= K < N.
fn parse_shard(text: &str) -> Result<(usize, usize), CliError> {
    let bad = || {
        CliError::Usage(format!(
            "argument --shard: expected K/N with 0 <= K < N, got `{text}`"
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
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
                inputs: vec!["a.jpg".into()],
                save_path: Some("out".into()),
                device: Some("cpu".into()),
                topk: Some(2),
                format: Format::Paddlex,
                shard: None,
                skip_existing: false,
                fast_decode: false,
                use_hpip: false,
                hpi_config: None,
            })
        );
    }

    #[test]
    fn batch_flags() {
        let Command::Predict(p) = parse(&[
            "--pipeline",
            "p",
            "--input",
            "a.jpg",
            "b/",
            "-",
            "--input",
            "c.png",
            "--format",
            "csv",
            "--shard",
            "1/4",
            "--save_path",
            "o",
            "--skip_existing",
        ])
        .unwrap() else {
            panic!("predict expected")
        };
        assert_eq!(p.inputs, ["a.jpg", "b/", "-", "c.png"]);
        assert_eq!(
            (p.format, p.shard, p.skip_existing),
            (Format::Csv, Some((1, 4)), true)
        );
        for bad in ["4/4", "1", "a/2", "0/0"] {
            assert!(
                matches!(
                    parse(&["--pipeline", "p", "--shard", bad]),
                    Err(CliError::Usage(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            parse(&["--pipeline", "p", "--skip_existing"]),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn fast_decode_flag_and_env_switch() {
        let Command::Predict(p) = parse(&["--pipeline", "p", "--fast_decode"]).unwrap() else {
            panic!("predict expected")
        };
        assert!(p.fast_decode);
        for on in ["1", "true", "YES", " on "] {
            assert_eq!(env_switch(FAST_DECODE_ENV, Some(on)), Ok(true), "{on}");
        }
        for off in ["", "0", "false", "Off", "no"] {
            assert_eq!(env_switch(FAST_DECODE_ENV, Some(off)), Ok(false), "{off}");
        }
        assert_eq!(env_switch(FAST_DECODE_ENV, None), Ok(false));
        let err = env_switch(FAST_DECODE_ENV, Some("fast")).unwrap_err();
        assert!(
            err.to_string().contains("PADDLEX_RS_FAST_DECODE=fast"),
            "{err}"
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
    fn other_engines_are_refused() {
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
                use_hpip: false,
                hpi_config: None,
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
