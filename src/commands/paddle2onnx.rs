//! `paddlex --paddle2onnx --paddle_model_dir DIR [--onnx_model_dir OUT]
//! [--opset_version N]`: PaddleX's conversion command, with the native
//! converter instead of the Python `paddle2onnx` plugin. Same checks, same
//! messages; writes `OUT/inference.onnx` and copies `inference.yml` (and
//! `scaler.pkl`) when OUT is another folder.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use paddle2onnx::{ModelFiles, Options, DEFAULT_OPSET, OPSETS};

use crate::exit_codes::ExitCode;
use crate::log;
use crate::model::paddle;

/// Files PaddleX copies next to the converted model besides `inference.yml`.
const ADDITIONAL_FILES: [&str; 1] = ["scaler.pkl"];

/// Runs the conversion.
pub(crate) fn run(
    paddle_dir: Option<&Path>,
    onnx_dir: Option<&Path>,
    opset: Option<i64>,
) -> Result<ExitCode> {
    let Some(paddle_dir) = paddle_dir else {
        bail!("Input directory must be specified");
    };
    let onnx_dir = onnx_dir.unwrap_or(paddle_dir);
    log::info(&format!("Input dir: {}", paddle_dir.display()));
    log::info(&format!("Output dir: {}", onnx_dir.display()));
    if !paddle_dir.exists() {
        bail!("{} does not exist", paddle_dir.display());
    }
    if !paddle_dir.is_dir() {
        bail!("{} is not a directory", paddle_dir.display());
    }
    let Some(files) = ModelFiles::find(paddle_dir) else {
        bail!("PaddlePaddle model does not exist");
    };
    let config = paddle_dir.join("inference.yml");
    if !config.exists() {
        bail!("{} does not exist", config.display());
    }
    let opset = match opset {
        None => {
            log::info(&format!(
                "Using default ONNX opset version: {DEFAULT_OPSET}"
            ));
            DEFAULT_OPSET
        }
        Some(v) if v < *OPSETS.start() => {
            log::warn(&format!(
                "ONNX opset {v} is below what this converter writes; writing opset {} (ONNX Runtime runs it the same)",
                OPSETS.start()
            ));
            *OPSETS.start()
        }
        Some(v) => v,
    };
    log::info("Paddle2ONNX conversion starting...");
    let started = Instant::now();
    let options = Options {
        opset,
        ..Options::default()
    };
    let onnx = onnx_dir.join("inference.onnx");
    let summary = paddle::convert_to(&files, &onnx, &options).map_err(|e| match e {
        paddle::PaddleError::Convert(inner) => {
            anyhow::anyhow!("Paddle2ONNX conversion failed: {inner}")
        }
        other => anyhow::anyhow!("Paddle2ONNX conversion failed: {other}"),
    })?;
    // A marker from an earlier automatic conversion would now be stale.
    let _ = std::fs::remove_file(onnx_dir.join(paddle::MARKER));
    log::info(&format!(
        "ONNX model saved in {} ({} operators, opset {opset}, {:.2} s).",
        onnx.display(),
        summary.operators,
        started.elapsed().as_secs_f64()
    ));
    log::info("Paddle2ONNX conversion succeeded");
    let same = std::fs::canonicalize(onnx_dir).ok() == std::fs::canonicalize(paddle_dir).ok();
    if !same {
        let names = std::iter::once("inference.yml").chain(ADDITIONAL_FILES);
        for name in names {
            let src = paddle_dir.join(name);
            if !src.exists() {
                continue;
            }
            let dst = onnx_dir.join(name);
            std::fs::copy(&src, &dst)
                .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
            log::info(&format!("Copied {} to {}", src.display(), dst.display()));
        }
    }
    log::info("Done");
    Ok(ExitCode::Success)
}
