//! One setup path for every command that runs a model (predict, serve, the
//! Python binding): the pipeline argument, `--device`, `--use_hpip`,
//! `--hpi_config` and "saving or not" become the loaded config, the model
//! directory and the execution plan; PaddleX's `Creating model:` line is
//! printed on the way, and [`inference_line`] gives the `Inference:` line.

use crate::config::{ModuleConfig, PipelineConfig};
use crate::log;
use crate::model::{resolve_model, ModelDir};
use crate::result::pyrepr::py_str_repr;
use crate::runtime::hpi::HpiConfig;
use crate::runtime::plan::{self, PlanRequest};
use crate::runtime::session::provider_name;
use crate::runtime::{Backend, Device, ExecutionPlan};

/// What a command asks for.
#[derive(Debug, Clone, Copy)]
pub struct SetupRequest<'a> {
    /// `--pipeline`: a pipeline name or a YAML file.
    pub pipeline: &'a str,
    /// How to run it.
    pub options: SetupOptions<'a>,
}

/// How to run a pipeline: the flags beside `--pipeline`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetupOptions<'a> {
    /// `--device`.
    pub device: Option<&'a str>,
    /// `--use_hpip`.
    pub use_hpip: bool,
    /// `--hpi_config`.
    pub hpi_config: Option<&'a str>,
    /// Results are saved (visualisations encoded): fewer inference threads.
    pub saving: bool,
}

/// The pipeline ready to load sessions from.
#[derive(Debug)]
pub struct Loaded {
    /// The pipeline YAML.
    pub config: PipelineConfig,
    /// The model directory (fetched, provisioned or converted as needed).
    pub model: ModelDir,
    /// How inference runs (before any load-time fallback).
    pub plan: ExecutionPlan,
}

/// Reads the pipeline, then [`load_config`].
pub fn load(req: &SetupRequest<'_>) -> anyhow::Result<Loaded> {
    let config = PipelineConfig::from_pipeline_arg(req.pipeline)?;
    load_config(config, &req.options)
}

/// Checks `--device`, prints `Creating model:`, finds the model (a
/// [`crate::model::ModelError`] inside the error when that fails) and decides
/// the execution plan.
pub fn load_config(config: PipelineConfig, req: &SetupOptions<'_>) -> anyhow::Result<Loaded> {
    // A malformed --device fails before any model is fetched.
    if let Some(text) = req.device {
        Device::parse(text)?;
    }
    let module = &config.module;
    log::info(&creating_model_line(module));
    let model = resolve_model(&module.model_name, module.model_dir.as_deref())?;
    let plan = execution_plan(&config, &model, req)?;
    Ok(Loaded {
        config,
        model,
        plan,
    })
}

/// The execution plan from `--device`, `--use_hpip`, `--hpi_config` and the
/// pipeline YAML; warns about a requested device that falls back to the CPU
/// and about an `--hpi_config` that has no effect.
fn execution_plan(
    config: &PipelineConfig,
    model: &ModelDir,
    req: &SetupOptions<'_>,
) -> anyhow::Result<ExecutionPlan> {
    let hpi = HpiConfig::resolve(config.hpi_config.as_ref(), req.hpi_config)?;
    let use_hpip = req.use_hpip || config.use_hpip;
    if req.hpi_config.is_some() && !use_hpip {
        log::warn("--hpi_config has no effect without --use_hpip (as in PaddleX)");
    }
    let request = PlanRequest {
        device: req.device,
        use_hpip,
        hpi: &hpi,
        model_dir: &model.path,
        hpi_info: model.config.hpi.as_ref(),
        saving: req.saving,
    };
    let (plan, warning) = ExecutionPlan::choose(&request, &plan::probe_hardware)?;
    if let Some(warning) = warning {
        log::warn(&warning);
    }
    Ok(plan)
}

/// PaddleX's `Creating model: ('name', None)` line.
fn creating_model_line(module: &ModuleConfig) -> String {
    let shown_dir = module
        .model_dir
        .as_ref()
        .map_or("None".to_string(), |d| py_str_repr(&d.to_string_lossy()));
    format!(
        "Creating model: ({}, {shown_dir})",
        py_str_repr(&module.model_name)
    )
}

/// `Inference: onnxruntime backend, CPUExecutionProvider, 2 threads`.
pub fn inference_line(plan: &ExecutionPlan) -> String {
    let provider = provider_name(plan);
    let precision = if plan.backend == Backend::TensorRt && plan.fp16 {
        " (fp16)"
    } else {
        ""
    };
    if plan.device.is_cpu() {
        let threads = match plan.threads {
            1 => "1 thread".to_string(),
            n => format!("{n} threads"),
        };
        format!(
            "Inference: {} backend{precision}, {provider}, {threads}",
            plan.backend.name()
        )
    } else {
        format!(
            "Inference: {} backend{precision}, {provider} on {}",
            plan.backend.name(),
            plan.device
        )
    }
}
