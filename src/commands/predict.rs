//! `paddlex --pipeline image_classification --input X [--save_path D]`:
//! classify, print each result line, save the JSON and the visualisation.

use std::path::Path;

use anyhow::{bail, Context};

use crate::cli::PredictArgs;
use crate::config::{ModuleConfig, PipelineConfig};
use crate::exit_codes::ExitCode;
use crate::input;
use crate::log;
use crate::model::resolve_model;
use crate::output::{self, CollisionGuard};
use crate::pipeline::{Outcome, Pipeline};
use crate::postprocess::resolve_k;
use crate::result::pyrepr::py_str_repr;
use crate::runtime::Device;
use crate::visualize;

/// Runs a prediction; `Ok(Failure)` when some inputs failed but the run went on.
pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let config = PipelineConfig::from_pipeline_arg(&args.pipeline)?;
    check_device(args.device.as_deref())?;
    let module = &config.module;
    log::info(&creating_model_line(module));
    let model = resolve_model(&module.model_name, module.model_dir.as_deref())?;
    let mut pipeline = Pipeline::new(&model, module.batch_size)?;
    let Some(input_arg) = &args.input else {
        return Ok(ExitCode::Success);
    };
    let items = input::expand(input_arg)?;
    let k = resolve_k(args.topk, module.topk, model.config.topk);
    let mut failures = 0usize;
    let mut collisions = CollisionGuard::default();
    pipeline.run(&items, k, |outcome| {
        if !handle(outcome, args.save_path.as_deref(), &mut collisions) {
            failures += 1;
        }
    });
    if failures > 0 {
        log::error(&format!("{failures} of {} inputs failed", items.len()));
        return Ok(ExitCode::Failure);
    }
    Ok(ExitCode::Success)
}

/// PaddleX's `Creating model: ('name', None)` line.
pub fn creating_model_line(module: &ModuleConfig) -> String {
    let shown_dir = module
        .model_dir
        .as_ref()
        .map_or("None".to_string(), |d| py_str_repr(&d.to_string_lossy()));
    format!(
        "Creating model: ({}, {shown_dir})",
        py_str_repr(&module.model_name)
    )
}

/// Prints and saves one outcome; false when it failed.
fn handle(outcome: Outcome, save_path: Option<&Path>, collisions: &mut CollisionGuard) -> bool {
    let (res, image) = match outcome.result {
        Ok(ok) => ok,
        Err(reason) => {
            log::error(&format!("Error: {}: {reason}", outcome.input_path));
            return false;
        }
    };
    log::info(&res.to_print_line());
    let Some(save_path) = save_path else {
        return true;
    };
    let paths = output::output_paths(save_path, &res.input_path, res.page_index);
    for path in [&paths.json, &paths.image] {
        if let Some(previous) = collisions.claim(path, &res.input_path) {
            log::warn(&format!(
                "{} overwrites the result of {previous}: both inputs write {}",
                res.input_path,
                path.display()
            ));
        }
    }
    let saved = output::save_json(&res, &paths.json).and_then(|()| {
        let (label, score) = match (res.label_names.first(), res.scores.first()) {
            (Some(l), Some(s)) => (l.as_str(), *s),
            _ => ("", 0.0),
        };
        let drawn = visualize::draw_label(&image, &visualize::label_text(label, score));
        output::save_image(&drawn, &paths.image)
    });
    match saved {
        Ok(()) => true,
        Err(e) => {
            log::error(&format!("Error: {}: {e}", res.input_path));
            false
        }
    }
}

/// This build runs on the CPU. A GPU or NPU request falls back to the CPU with
/// a warning, as PaddleX does when the device is unusable, unless
/// `PADDLE_PDX_DISABLE_DEVICE_FALLBACK` is set.
pub fn check_device(device: Option<&str>) -> anyhow::Result<()> {
    let Some(text) = device else { return Ok(()) };
    let device = Device::parse(text).with_context(|| format!("invalid --device {text}"))?;
    match device.kind.as_str() {
        "cpu" => Ok(()),
        "gpu" | "npu" => {
            let reason = format!(
                "{device} was requested, but this build has no {} execution provider yet",
                device.kind
            );
            if std::env::var_os("PADDLE_PDX_DISABLE_DEVICE_FALLBACK").is_some() {
                bail!("{reason} (and PADDLE_PDX_DISABLE_DEVICE_FALLBACK is set)");
            }
            log::warn(&format!("{reason}; falling back to CPU"));
            Ok(())
        }
        other => bail!("this build does not support {other} hardware; use --device cpu"),
    }
}
