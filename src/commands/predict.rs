//! `paddlex --pipeline image_classification --input X [--save_path D]`:
//! classify, report each result, save the JSON and the visualisation.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use rayon::prelude::*;

use crate::cli::PredictArgs;
use crate::exit_codes::ExitCode;
use crate::input::stream::{StreamCounts, UnitStream};
use crate::input::{self, Unit};
use crate::log;
use crate::output::{self, CollisionGuard};
use crate::pipeline::{KeepVisual, Outcome, Pipeline};
use crate::postprocess::resolve_k;
use crate::report::progress::Progress;
use crate::report::{self, Reporter};
use crate::result::Classification;
use crate::setup::{self, Loaded, SetupOptions, SetupRequest};
use crate::stop::Stop;
use crate::visualize::Visual;

/// Runs a prediction; `Ok(Failure)` when some inputs failed but the run went on.
pub(crate) fn run(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let Loaded {
        config,
        model,
        plan,
    } = setup::load(&SetupRequest {
        pipeline: &args.pipeline,
        options: SetupOptions {
            device: args.device.as_deref(),
            use_hpip: args.use_hpip,
            hpi_config: args.hpi_config.as_deref(),
            saving: args.save_path.is_some(),
        },
    })?;
    let module = &config.module;
    // The runtime and the model load while the inputs are listed and the
    // first ones decoded.
    let mut pipeline = Pipeline::load_in_background(&model, module.batch_size, &plan)?;
    pipeline.set_fast_decode(args.fast_decode);
    if args.inputs.is_empty() {
        log::info(&setup::inference_line(pipeline.ready()?));
        return Ok(ExitCode::Success);
    }
    let start = Instant::now();
    let mut items = input::expand_all(&args.inputs, std::io::stdin().lock())?;
    if let Some((index, count)) = args.shard {
        items = input::shard(items, index, count);
    }
    // From here on SIGINT and SIGTERM stop the run cleanly instead of killing it.
    let stop = Stop::on_signals();
    let skip_done = args.skip_existing.then(|| args.save_path.clone()).flatten();
    let item_count = items.len();
    // URLs are downloaded, PDFs parsed and TIFF frames counted as the run
    // goes, just ahead of decoding.
    let units = UnitStream::spawn(
        items,
        move |unit: &Unit| {
            skip_done
                .as_deref()
                .is_none_or(|dir| !outputs_exist(dir, unit))
        },
        stop.clone(),
    );
    let counts = units.counts();
    let k = resolve_k(args.topk, module.topk, model.config.topk);
    let stdout = std::io::stdout();
    let mut reporter = report::reporter(args.format, Box::new(stdout.lock()), k)?;
    let progress = Progress::new(item_count);
    let mut run = RunState {
        reporter: reporter.as_mut(),
        save_path: args.save_path.as_deref(),
        collisions: CollisionGuard::default(),
        progress: &progress,
        counts: &counts,
        failed: 0,
        reported: 0,
        output_error: None,
    };
    let keep =
        |unit: &Unit, image: image::RgbImage| keep_visual(args.save_path.as_deref(), unit, image);
    pipeline.run(
        units,
        k,
        args.save_path.is_some().then_some(&keep as KeepVisual<'_>),
        &stop,
        |effective| log::info(&setup::inference_line(effective)),
        |outcomes| run.handle_batch(outcomes),
    )?;
    let (failed, reported, output_error) = (run.failed, run.reported, run.output_error.take());
    progress.finish();
    if let Some(e) = output_error.map_or_else(|| reporter.finish().err(), Some) {
        return output_failed(e);
    }
    let stopped = stop.requested();
    if let Some(reason) = stopped {
        let total = counts.known_total().max(reported);
        log::warn(&format!(
            "{}: stopped taking inputs; {} of {} not processed",
            reason.signal_name(),
            total - reported,
            total
        ));
    }
    let skipped = counts.skipped();
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

/// Whether a unit's outputs all exist (the visualisation and
/// `<stem>_res.json`, which [`save`] writes last): `--skip_existing` leaves it out.
fn outputs_exist(save_path: &Path, unit: &Unit) -> bool {
    let paths = output::output_paths(save_path, &unit.input_path, unit.page_index);
    paths.image.is_file() && paths.json.is_file()
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
    /// The units made so far: the progress bar's length.
    counts: &'a StreamCounts,
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
        self.progress.set_total(self.counts.known_total());
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
        output::save_visual(res, visual, &paths.image)?;
    }
    output::save_json(res, &paths.json).map_err(|e| e.to_string())
}
