//! `paddlex --pipeline image_classification --input X [--save_path D]`:
//! classify, report each result, save the JSON and the visualisation.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;

use crate::cli::PredictArgs;
use crate::config::{ModuleConfig, PipelineConfig};
use crate::exit_codes::ExitCode;
use crate::image::decode;
use crate::input::{self, Unit};
use crate::log;
use crate::model::{resolve_model, ModelDir};
use crate::output::{self, CollisionGuard};
use crate::pipeline::{KeepVisual, Outcome, Pipeline};
use crate::postprocess::resolve_k;
use crate::report::progress::Progress;
use crate::report::{self, Reporter};
use crate::result::pyrepr::py_str_repr;
use crate::result::Classification;
use crate::runtime::hpi::HpiConfig;
use crate::runtime::plan::{self, PlanRequest};
use crate::runtime::session::provider_name;
use crate::runtime::{Backend, Device, ExecutionPlan};
use crate::stop::Stop;
use crate::visualize::{self, Visual};

/// Runs a prediction; `Ok(Failure)` when some inputs failed but the run went on.
pub fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let config = PipelineConfig::from_pipeline_arg(&args.pipeline)?;
    // A malformed --device fails before any model is fetched.
    if let Some(text) = &args.device {
        Device::parse(text)?;
    }
    let module = &config.module;
    log::info(&creating_model_line(module));
    let model = resolve_model(&module.model_name, module.model_dir.as_deref())?;
    let plan = execution_plan(
        &config,
        &model,
        args.device.as_deref(),
        args.use_hpip,
        args.hpi_config.as_deref(),
        args.save_path.is_some(),
    )?;
    // The runtime and the model load while the inputs are listed and the
    // first ones decoded.
    let mut pipeline = Pipeline::load_in_background(&model, module.batch_size, &plan)?;
    pipeline.set_fast_decode(args.fast_decode);
    if args.inputs.is_empty() {
        log::info(&describe(pipeline.ready()?));
        return Ok(ExitCode::Success);
    }
    let start = Instant::now();
    let mut items = input::expand_all(&args.inputs, std::io::stdin().lock())?;
    if let Some((index, count)) = args.shard {
        items = input::shard(items, index, count);
    }
    let mut units = input::to_units(&items);
    let skipped = match (&args.save_path, args.skip_existing) {
        (Some(save_path), true) => skip_existing(&mut units, save_path),
        _ => 0,
    };
    let k = resolve_k(args.topk, module.topk, model.config.topk);
    let stdout = std::io::stdout();
    let mut reporter = report::reporter(args.format, Box::new(stdout.lock()), k)?;
    let progress = Progress::new(units.len());
    let mut run = RunState {
        reporter: reporter.as_mut(),
        save_path: args.save_path.as_deref(),
        collisions: CollisionGuard::default(),
        progress: &progress,
        failed: 0,
        reported: 0,
        output_error: None,
    };
    let keep =
        |unit: &Unit, image: image::RgbImage| keep_visual(args.save_path.as_deref(), unit, image);
    // From here on SIGINT and SIGTERM stop the run cleanly instead of killing it.
    let stop = Stop::on_signals();
    pipeline.run(
        &units,
        k,
        args.save_path.is_some().then_some(&keep as KeepVisual<'_>),
        &stop,
        |effective| log::info(&describe(effective)),
        |outcomes| run.handle_batch(outcomes),
    )?;
    let (failed, reported, output_error) = (run.failed, run.reported, run.output_error.take());
    progress.finish();
    if let Some(e) = output_error.map_or_else(|| reporter.finish().err(), Some) {
        return output_failed(e);
    }
    let stopped = stop.requested();
    if let Some(reason) = stopped {
        log::warn(&format!(
            "{}: stopped taking inputs; {} of {} not processed",
            reason.signal_name(),
            units.len() - reported,
            units.len()
        ));
    }
    log::info(&report::summary(
        reported,
        failed,
        skipped,
        start.elapsed().as_secs_f64(),
    ));
    Ok(match stopped {
        Some(reason) => reason.exit_code(),
        None if failed > 0 => ExitCode::Failure,
        None => ExitCode::Success,
    })
}

/// Drops units whose outputs all exist (the visualisation and
/// `<stem>_res.json`, which [`save`] writes last); returns how many.
fn skip_existing(units: &mut Vec<Unit>, save_path: &Path) -> usize {
    let before = units.len();
    units.retain(|u| {
        let paths = output::output_paths(save_path, &u.input_path, u.page_index);
        !(paths.image.is_file() && paths.json.is_file())
    });
    before - units.len()
}

/// Ends a run whose results can no longer be written. A closed pipe
/// (`paddlex ... --format jsonl | head -1`) means the reader has all it
/// wants: the run ends quietly with exit code 0, as ripgrep and fd do. Any
/// other write error fails the run.
fn output_failed(e: std::io::Error) -> anyhow::Result<ExitCode> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(ExitCode::Success)
    } else {
        Err(e).context("writing results")
    }
}

/// What the per-result callback needs.
struct RunState<'a, 'w> {
    reporter: &'a mut (dyn Reporter + 'w),
    save_path: Option<&'a Path>,
    collisions: CollisionGuard,
    progress: &'a Progress,
    failed: usize,
    /// Results reported (failures included).
    reported: usize,
    /// The first error writing results: the run stops there.
    output_error: Option<std::io::Error>,
}

impl RunState<'_, '_> {
    /// Saves one batch's results in parallel, then reports them in order;
    /// breaks off when a result cannot be written.
    fn handle_batch(&mut self, outcomes: Vec<Outcome>) -> ControlFlow<()> {
        for outcome in &outcomes {
            if let Ok((res, _)) = &outcome.result {
                self.warn_collisions(res);
            }
        }
        let save_path = self.save_path;
        let done: Vec<(String, Option<usize>, Result<Classification, String>)> = outcomes
            .into_par_iter()
            .map(|o| {
                let result = o
                    .result
                    .and_then(|(res, image)| save(save_path, &res, image).map(|()| res));
                (o.input_path, o.page_index, result)
            })
            .collect();
        for (input_path, page_index, result) in done {
            if let Err(e) = self.report(&input_path, page_index, result) {
                self.output_error = Some(e);
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    /// Reports one result; the error is the reporter's, writing it.
    fn report(
        &mut self,
        input_path: &str,
        page_index: Option<usize>,
        result: Result<Classification, String>,
    ) -> std::io::Result<()> {
        let written = self.progress.suspend(|| match &result {
            Ok(res) => self.reporter.success(res),
            Err(reason) => {
                log::error(&report::error_line(input_path, page_index, reason));
                self.reporter.failure(input_path, page_index, reason)
            }
        });
        if result.is_err() {
            self.failed += 1;
        }
        self.reported += 1;
        self.progress.inc();
        written
    }

    /// Warns when two inputs write the same result files (PaddleX's names are kept).
    fn warn_collisions(&mut self, res: &Classification) {
        let Some(save_path) = self.save_path else {
            return;
        };
        let paths = output::output_paths(save_path, &res.input_path, res.page_index);
        let shown = match res.page_index {
            Some(p) => format!("{} page {p}", res.input_path),
            None => res.input_path.clone(),
        };
        for path in [&paths.json, &paths.image] {
            if let Some(previous) = self.collisions.claim(path, &shown) {
                self.progress.suspend(|| {
                    log::warn(&format!(
                        "{shown} overwrites the result of {previous}: both write {}",
                        path.display()
                    ))
                });
            }
        }
    }
}

/// What to keep of a decoded image for its visualisation: a JPEG is encoded
/// below the label at once, other formats keep every pixel.
fn keep_visual(save_path: Option<&Path>, unit: &Unit, image: image::RgbImage) -> Visual {
    match save_path {
        Some(save_path)
            if output::is_jpeg(
                &output::output_paths(save_path, &unit.input_path, unit.page_index).image,
            ) =>
        {
            Visual::for_jpeg(image)
        }
        _ => Visual::Pixels(image),
    }
}

/// Saves the visualisation, then the JSON, when `--save_path` is given.
/// The JSON comes last: it marks a result as complete for `--skip_existing`.
fn save(
    save_path: Option<&Path>,
    res: &Classification,
    visual: Option<Visual>,
) -> Result<(), String> {
    let Some(save_path) = save_path else {
        return Ok(());
    };
    let paths = output::output_paths(save_path, &res.input_path, res.page_index);
    if let Some(visual) = visual {
        save_visual(res, visual, &paths.image)?;
    }
    output::save_json(res, &paths.json).map_err(|e| e.to_string())
}

/// Draws the label of `res` (top-1 name and score) on `visual` and writes
/// it to `path`, encoded as the suffix says: the CLI's visualisation bytes.
/// Keep a JPEG's pixels with [`Visual::for_jpeg`] and others' with
/// [`Visual::Pixels`].
pub fn save_visual(res: &Classification, visual: Visual, path: &Path) -> Result<(), String> {
    let (label, score) = match (res.label_names.first(), res.scores.first()) {
        (Some(l), Some(s)) => (l.as_str(), *s),
        _ => ("", 0.0),
    };
    let text = visualize::label_text(label, score);
    let saved = match visual {
        Visual::Jpeg(partial) => output::save_encoded(&partial.finish(&text), path),
        Visual::Pixels(mut image) => {
            visualize::draw_label_in_place(&mut image, &text);
            let saved = output::save_image(&image, path);
            // Saving runs on the same worker threads as decoding: the next
            // decode on this thread reuses the pixels.
            decode::recycle(image);
            saved
        }
    };
    saved.map_err(|e| e.to_string())
}

/// The execution plan from `--device`, `--use_hpip`, `--hpi_config` and the
/// pipeline YAML; warns about a requested device that falls back to the CPU
/// and about an `--hpi_config` that has no effect.
pub fn execution_plan(
    config: &PipelineConfig,
    model: &ModelDir,
    device: Option<&str>,
    use_hpip: bool,
    hpi_config: Option<&str>,
    saving: bool,
) -> anyhow::Result<ExecutionPlan> {
    let hpi = HpiConfig::resolve(config.hpi_config.as_ref(), hpi_config)?;
    let use_hpip = use_hpip || config.use_hpip;
    if hpi_config.is_some() && !use_hpip {
        log::warn("--hpi_config has no effect without --use_hpip (as in PaddleX)");
    }
    let request = PlanRequest {
        device,
        use_hpip,
        hpi: &hpi,
        model_dir: &model.path,
        hpi_info: model.config.hpi.as_ref(),
        saving,
    };
    let (plan, warning) = plan::plan(&request, &plan::probe_hardware)?;
    if let Some(warning) = warning {
        log::warn(&warning);
    }
    Ok(plan)
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

/// `Inference: onnxruntime backend, CPUExecutionProvider, 2 threads`.
pub fn describe(plan: &ExecutionPlan) -> String {
    let provider = provider_name(plan);
    let precision = if plan.backend == Backend::TensorRt && plan.fp16 {
        " (fp16)"
    } else {
        ""
    };
    if plan.device.kind == "cpu" {
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
