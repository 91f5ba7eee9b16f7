//! The top of the program: parse, dispatch, map errors to exit codes.

use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use crate::cli::{CliError, Command, RawArgs};
use crate::commands;
use crate::exit_codes::ExitCode;
use crate::log;

/// Runs the CLI with `args` (program name first) and returns the exit code.
pub fn run(args: Vec<OsString>) -> ExitCode {
    if args.len() <= 1 {
        log::warn("No arguments provided. Displaying help information:");
        let _ = RawArgs::command().print_help();
        return ExitCode::Usage;
    }
    let raw = match RawArgs::try_parse_from(args) {
        Ok(raw) => raw,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Success
            };
        }
    };
    let command = match Command::from_raw(raw) {
        Ok(c) => c,
        Err(CliError::Usage(msg)) => {
            log::error(&format!("error: {msg}"));
            return ExitCode::Usage;
        }
        Err(e @ CliError::NotSupported(_)) => {
            log::error(&e.to_string());
            return ExitCode::Failure;
        }
    };
    let result = match &command {
        Command::Predict(args) => commands::predict::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::ListModels => commands::list_models::run(),
        Command::Paddle2Onnx {
            paddle_model_dir,
            onnx_model_dir,
            opset_version,
        } => commands::paddle2onnx::run(
            paddle_model_dir.as_deref(),
            onnx_model_dir.as_deref(),
            *opset_version,
        ),
        Command::GetPipelineConfig { name, save_path } => {
            commands::pipeline_config::run(name, save_path.as_deref())
        }
    };
    result.unwrap_or_else(|e| {
        // A closed pipe (`paddlex --list_models | head`) ends quietly, like PaddleX.
        if !is_broken_pipe(&e) {
            log::error(&format!("{e:#}"));
        }
        ExitCode::Failure
    })
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
