//! `paddlex_rs._native`: the Rust half of the `paddlex_rs` Python package.
//!
//! Everything here is a thin adapter over the `paddlex` library: loading a
//! pipeline ([`paddlex::config`], [`paddlex::model`], [`paddlex::pipeline`]),
//! expanding inputs ([`paddlex::input`]), and the CLI's printed line, JSON
//! and visualisation ([`paddlex::result`], [`paddlex::output`],
//! [`paddlex::visualize`]). The Python package (`python/paddlex_rs`) builds
//! PaddleX's API on top: generators, `TopkResult`, keyword handling.
//!
//! Threads: a loaded pipeline sits behind a mutex that is only taken with
//! the GIL released ([`Python::detach`]), so one pipeline can serve many
//! Python threads, one batch at a time, while the others keep running.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::RgbImage;
use numpy::ndarray::{ArrayView3, ArrayViewD, Ix3};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyAssertionError, PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;

use paddlex::config::{ConfigError, ModuleConfig, PipelineConfig};
use paddlex::input::{self, Source, Unit};
use paddlex::log::{format_line, Level};
use paddlex::model::ModelError;
use paddlex::output;
use paddlex::output::save_visual;
use paddlex::pipeline::{KeepVisual, Outcome, Pipeline};
use paddlex::postprocess::resolve_k;
use paddlex::result::pyrepr::result_line_as;
use paddlex::result::Classification;
use paddlex::setup::{self, Loaded, SetupOptions};
use paddlex::stop::Stop;
use paddlex::visualize::{self, Visual};

/// Batches classified per call into Rust: a little decoding runs ahead of
/// inference inside a call, and the GIL is taken back between calls.
const CHUNK_BATCHES: usize = 2;

/// Errors of this module, turned into Python exceptions at the boundary.
#[derive(Debug, thiserror::Error)]
enum BindingError {
    /// The pipeline config, model, runtime or device failed.
    #[error("{0:#}")]
    Setup(#[from] anyhow::Error),
    /// An image array that is not H×W×3 or H×W×4 uint8.
    #[error("{0}")]
    BadArray(String),
    /// Saving a result failed.
    #[error("{0}")]
    Save(String),
    /// A pipeline name that is neither `image_classification` nor a file
    /// (PaddleX raises a bare `Exception` with this text).
    #[error(
        "The pipeline ({0}) does not exist! Please use a pipeline name or a config file path!"
    )]
    UnknownPipeline(String),
    /// `model_dir`'s inference.yml names another model (PaddleX's `AssertionError`).
    #[error("Model name mismatch，please input the correct model dir. ({0})")]
    NameMismatch(String),
    /// The pipeline's lock was poisoned by a panic in another thread.
    #[error("the pipeline is unusable after an internal error in another thread")]
    Poisoned,
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> PyErr {
        match e {
            BindingError::BadArray(m) => PyValueError::new_err(m),
            e @ BindingError::UnknownPipeline(_) => PyException::new_err(e.to_string()),
            e @ BindingError::NameMismatch(_) => PyAssertionError::new_err(e.to_string()),
            other => PyRuntimeError::new_err(other.to_string()),
        }
    }
}

/// A loaded model with its preprocessing and sessions, shareable between
/// Python threads.
#[pyclass(frozen, module = "paddlex_rs._native")]
struct NativePipeline {
    pipeline: Arc<Mutex<Pipeline>>,
    /// The pipeline YAML's (or `create_model`'s) `topk`.
    config_topk: Option<i64>,
    /// inference.yml's `PostProcess.Topk.topk`.
    model_topk: Option<i64>,
    /// The model's name and folder, as resolved.
    model_name: String,
    model_dir: PathBuf,
}

impl NativePipeline {
    fn load(
        config: &PipelineConfig,
        device: Option<&str>,
        use_hpip: bool,
        hpi_config: Option<&str>,
    ) -> Result<Self, BindingError> {
        let module = &config.module;
        let options = SetupOptions {
            device,
            use_hpip,
            hpi_config,
            saving: false,
        };
        let Loaded { model, plan, .. } =
            setup::load_config(config.clone(), &options).map_err(|e| {
                match e.downcast_ref::<ModelError>() {
                    Some(m @ ModelError::NameMismatch { .. }) => {
                        BindingError::NameMismatch(m.to_string())
                    }
                    _ => BindingError::Setup(e),
                }
            })?;
        let pipeline =
            Pipeline::with_plan(&model, module.batch_size, &plan).map_err(anyhow::Error::from)?;
        Ok(NativePipeline {
            pipeline: Arc::new(Mutex::new(pipeline)),
            config_topk: module.topk,
            model_topk: model.config.topk,
            model_name: module.model_name.clone(),
            model_dir: model.path.clone(),
        })
    }
}

#[pymethods]
impl NativePipeline {
    /// Loads the pipeline of a YAML file or name (`pipeline`) or of YAML text
    /// (`config_text`, which wins), on `device` (PaddleX's grammar).
    #[staticmethod]
    #[pyo3(signature = (pipeline=None, config_text=None, device=None, use_hpip=None, hpi_config=None))]
    fn from_pipeline(
        py: Python<'_>,
        pipeline: Option<String>,
        config_text: Option<String>,
        device: Option<String>,
        use_hpip: Option<bool>,
        hpi_config: Option<String>,
    ) -> PyResult<Self> {
        py.detach(|| {
            let config = match (&config_text, &pipeline) {
                (Some(text), _) => PipelineConfig::parse(text, "the config"),
                (None, Some(name)) => PipelineConfig::from_pipeline_arg(name),
                (None, None) => PipelineConfig::builtin(),
            }
            .map_err(|e| match e {
                ConfigError::UnknownPipeline(name) => BindingError::UnknownPipeline(name),
                e => BindingError::Setup(e.into()),
            })?;
            let use_hpip = use_hpip.unwrap_or(config.use_hpip);
            Self::load(&config, device.as_deref(), use_hpip, hpi_config.as_deref())
        })
        .map_err(PyErr::from)
    }

    /// Loads one model by name (and folder), as PaddleX's `create_model`.
    // The arguments are create_model's keywords, one for one.
    #[allow(clippy::too_many_arguments)]
    #[staticmethod]
    #[pyo3(signature = (model_name, model_dir=None, device=None, batch_size=1, topk=None, use_hpip=false, hpi_config=None))]
    fn from_model(
        py: Python<'_>,
        model_name: String,
        model_dir: Option<PathBuf>,
        device: Option<String>,
        batch_size: usize,
        topk: Option<i64>,
        use_hpip: bool,
        hpi_config: Option<String>,
    ) -> PyResult<Self> {
        py.detach(|| {
            let config = PipelineConfig {
                pipeline_name: "image_classification".into(),
                use_hpip,
                hpi_config: None,
                serving_visualize: true,
                module: ModuleConfig {
                    model_name,
                    model_dir,
                    batch_size: batch_size.max(1),
                    topk,
                },
            };
            Self::load(&config, device.as_deref(), use_hpip, hpi_config.as_deref())
        })
        .map_err(PyErr::from)
    }

    /// The model's name.
    #[getter]
    fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The model's folder.
    #[getter]
    fn model_dir(&self) -> PathBuf {
        self.model_dir.clone()
    }

    /// The top-k used when a call gives none (or 0): the config's, else the model's, else 5.
    fn resolve_topk(&self, topk: Option<i64>) -> usize {
        resolve_k(topk, self.config_topk, self.model_topk)
    }

    /// The batch size.
    #[getter]
    fn batch_size(&self, py: Python<'_>) -> PyResult<usize> {
        py.detach(|| lock(&self.pipeline).map(|p| p.batch_size()))
            .map_err(PyErr::from)
    }

    /// Changes the batch size for this and later calls (`create_model`'s
    /// `predict(batch_size=n)`).
    fn set_batch_size(&self, py: Python<'_>, batch_size: usize) -> PyResult<()> {
        py.detach(|| lock(&self.pipeline).map(|mut p| p.set_batch_size(batch_size)))
            .map_err(PyErr::from)
    }

    /// Starts a lazy run over `inputs` (paths and arrays, in order) with top-`k`.
    fn run(&self, py: Python<'_>, inputs: Vec<Py<PyAny>>, k: usize) -> PyResult<NativeRun> {
        let mut pending = VecDeque::with_capacity(inputs.len());
        for item in inputs {
            let bound = item.bind(py);
            if let Ok(path) = bound.extract::<String>() {
                pending.push_back(Item::Path(path));
            } else {
                pending.push_back(Item::Array(item));
            }
        }
        // Read once: a chunk needs only the size, not the pipeline's lock.
        let batch_size = self.batch_size(py)?;
        Ok(NativeRun {
            pipeline: Arc::clone(&self.pipeline),
            chunk: batch_size * CHUNK_BATCHES,
            k: k.max(1),
            pending,
            queue: VecDeque::new(),
            ahead: None,
        })
    }
}

fn lock(pipeline: &Mutex<Pipeline>) -> Result<std::sync::MutexGuard<'_, Pipeline>, BindingError> {
    pipeline.lock().map_err(|_| BindingError::Poisoned)
}

/// One input as given: a path (file, folder, URL, PDF) or an image array.
enum Item {
    Path(String),
    Array(Py<PyAny>),
}

/// One unit waiting to be classified.
enum Entry {
    Unit(Unit),
    Array(Py<PyAny>),
}

/// A run in progress: inputs are expanded and classified a few batches at a
/// time, as Python asks for more.
#[pyclass(module = "paddlex_rs._native")]
struct NativeRun {
    pipeline: Arc<Mutex<Pipeline>>,
    /// Units classified per call: a few of the pipeline's batches.
    chunk: usize,
    k: usize,
    pending: VecDeque<Item>,
    queue: VecDeque<Entry>,
    /// The next chunk, being classified in the background.
    ahead: Option<JoinHandle<Result<Vec<Got>, BindingError>>>,
}

/// What Python gets for one unit.
enum Got {
    Ok {
        from_array: bool,
        res: Classification,
        image: Option<RgbImage>,
    },
    Failed {
        input_path: String,
        page_index: Option<usize>,
        reason: String,
        missing: bool,
    },
}

#[pymethods]
impl NativeRun {
    /// The next results, in input order: tuples
    /// `(True, input_path|None, page_index, input_img, class_ids, scores, label_names)`
    /// or `(False, input_path, page_index, reason, missing_file)`; `None` when done.
    fn next_chunk<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        let got = match self.ahead.take() {
            // The chunk classified in the background since the last call.
            Some(handle) => py
                .detach(|| handle.join())
                .map_err(|_| PyRuntimeError::new_err("classifying failed unexpectedly"))??,
            None => match self.take_chunk(py)? {
                None => return Ok(None),
                Some(entries) => self.classify_now(py, entries)?,
            },
        };
        self.read_ahead(py)?;
        let list = PyList::empty(py);
        for g in got {
            list.append(to_python(py, g)?)?;
        }
        Ok(Some(list))
    }
}

impl NativeRun {
    /// The next chunk's entries (inputs expanded as needed), or `None` when done.
    fn take_chunk(&mut self, py: Python<'_>) -> PyResult<Option<Vec<Entry>>> {
        let chunk = self.chunk;
        let (pending, queue) = (&mut self.pending, &mut self.queue);
        py.detach(|| fill(pending, queue, chunk));
        let n = chunk.min(self.queue.len());
        Ok((n > 0).then(|| self.queue.drain(..n).collect()))
    }

    /// Classifies `entries` on this thread with the GIL released.
    fn classify_now(&self, py: Python<'_>, entries: Vec<Entry>) -> PyResult<Vec<Got>> {
        // Borrow the arrays (read-only) while attached; read them detached.
        let mut arrays: Vec<PyReadonlyArrayDyn<'_, u8>> = Vec::new();
        for entry in &entries {
            if let Entry::Array(obj) = entry {
                let array = obj
                    .bind(py)
                    .cast::<numpy::PyArrayDyn<u8>>()
                    .map_err(|_| {
                        BindingError::BadArray("an image array must be a numpy uint8 array".into())
                    })?
                    .try_readonly()
                    .map_err(|e| BindingError::BadArray(e.to_string()))?;
                arrays.push(array);
            }
        }
        let views: Vec<ArrayViewD<'_, u8>> = arrays.iter().map(|a| a.as_array()).collect();
        let (pipeline, k) = (&self.pipeline, self.k);
        Ok(py.detach(|| classify(pipeline, &entries, &views, k))?)
    }

    /// Starts classifying the next chunk on a thread of its own while Python
    /// handles this one (as the CLI decodes ahead of its output), when that
    /// chunk holds only paths; one with arrays waits for the next call (its
    /// arrays are read only then, while their buffers are borrowed).
    fn read_ahead(&mut self, py: Python<'_>) -> PyResult<()> {
        let Some(entries) = self.take_chunk(py)? else {
            return Ok(());
        };
        if entries.iter().any(|e| matches!(e, Entry::Array(_))) {
            // Put them back, in order, for the next call.
            for entry in entries.into_iter().rev() {
                self.queue.push_front(entry);
            }
            return Ok(());
        }
        let units: Vec<Unit> = entries
            .into_iter()
            .filter_map(|e| match e {
                Entry::Unit(unit) => Some(unit),
                Entry::Array(_) => None,
            })
            .collect();
        let (pipeline, k) = (Arc::clone(&self.pipeline), self.k);
        self.ahead = Some(std::thread::spawn(move || {
            let from_array = vec![false; units.len()];
            classify_units(&pipeline, units, from_array, k)
        }));
        Ok(())
    }
}

/// Expands pending inputs until `queue` holds `chunk` units (or none are left).
fn fill(pending: &mut VecDeque<Item>, queue: &mut VecDeque<Entry>, chunk: usize) {
    while queue.len() < chunk {
        let Some(item) = pending.pop_front() else {
            break;
        };
        match item {
            Item::Array(obj) => queue.push_back(Entry::Array(obj)),
            Item::Path(path) => match input::expand(&path) {
                Ok(items) => queue.extend(input::to_units(&items).into_iter().map(Entry::Unit)),
                Err(e) => queue.push_back(Entry::Unit(Unit {
                    input_path: path,
                    page_index: None,
                    source: Source::Failed(e.to_string()),
                })),
            },
        }
    }
}

/// Classifies one chunk: arrays become in-memory units, then the library
/// pipeline runs them all, keeping each decoded image for `input_img`.
fn classify(
    pipeline: &Mutex<Pipeline>,
    entries: &[Entry],
    views: &[ArrayViewD<'_, u8>],
    k: usize,
) -> Result<Vec<Got>, BindingError> {
    let mut views = views.iter();
    let mut units = Vec::with_capacity(entries.len());
    let mut from_array = Vec::with_capacity(entries.len());
    for entry in entries {
        match entry {
            Entry::Unit(unit) => {
                units.push(unit.clone());
                from_array.push(false);
            }
            Entry::Array(_) => {
                let view = views
                    .next()
                    .ok_or_else(|| BindingError::BadArray("missing array".into()))?;
                units.push(Unit {
                    input_path: String::new(),
                    page_index: None,
                    source: Source::Pixels(Arc::new(bgr_to_rgb(view)?)),
                });
                from_array.push(true);
            }
        }
    }
    classify_units(pipeline, units, from_array, k)
}

/// Runs the library pipeline on `units`, keeping each decoded image for
/// `input_img`; `from_array` says which units came from arrays.
fn classify_units(
    pipeline: &Mutex<Pipeline>,
    units: Vec<Unit>,
    from_array: Vec<bool>,
    k: usize,
) -> Result<Vec<Got>, BindingError> {
    let keep = |_: &Unit, image: RgbImage| Visual::Pixels(image);
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(units.len());
    lock(pipeline)?
        .run(
            units.iter().cloned(),
            k,
            Some(&keep as KeepVisual<'_>),
            &Stop::new(),
            |_| {},
            |batch| {
                outcomes.extend(batch);
                ControlFlow::Continue(())
            },
        )
        .map_err(|e| BindingError::Setup(e.into()))?;
    Ok(outcomes
        .into_iter()
        .zip(from_array)
        .zip(&units)
        .map(|((o, from_array), unit)| match o.result {
            Ok((res, visual)) => Got::Ok {
                from_array,
                res,
                image: match visual {
                    Some(Visual::Pixels(image)) => Some(image),
                    _ => None,
                },
            },
            Err(reason) => Got::Failed {
                missing: unit.source == Source::Image
                    && !input::is_url(&o.input_path)
                    && !Path::new(&o.input_path).exists(),
                input_path: o.input_path,
                page_index: o.page_index,
                reason,
            },
        })
        .collect())
}

/// An H×W×3 BGR or H×W×4 BGRA uint8 array (any strides) as RGB.
fn bgr_to_rgb(view: &ArrayViewD<'_, u8>) -> Result<RgbImage, BindingError> {
    let shape = view.shape().to_vec();
    let bad = || {
        BindingError::BadArray(format!(
            "an image array must be H×W×3 (BGR) or H×W×4 (BGRA) uint8, got shape {shape:?}"
        ))
    };
    let view: ArrayView3<'_, u8> = view
        .view()
        .into_dimensionality::<Ix3>()
        .map_err(|_| bad())?;
    let (h, w, c) = view.dim();
    if !(c == 3 || c == 4) || h == 0 || w == 0 {
        return Err(bad());
    }
    let (width, height) = (
        u32::try_from(w).map_err(|_| bad())?,
        u32::try_from(h).map_err(|_| bad())?,
    );
    let mut raw = Vec::with_capacity(h * w * 3);
    match view.as_slice() {
        // C order (the usual case): one pass over the buffer.
        Some(flat) => {
            for px in flat.chunks_exact(c) {
                raw.extend_from_slice(&[px[2], px[1], px[0]]);
            }
        }
        None => {
            for row in view.outer_iter() {
                for px in row.outer_iter() {
                    raw.extend_from_slice(&[px[2], px[1], px[0]]);
                }
            }
        }
    }
    RgbImage::from_raw(width, height, raw).ok_or_else(bad)
}

/// One result as a Python tuple (see [`NativeRun::next_chunk`]).
fn to_python(py: Python<'_>, got: Got) -> PyResult<Py<PyAny>> {
    match got {
        Got::Ok {
            from_array,
            res,
            image,
        } => {
            let input_path = (!from_array).then_some(res.input_path);
            let img = match image {
                Some(image) => Some(image_to_numpy(py, image)?),
                None => None,
            };
            let class_ids = res.class_ids.into_pyarray(py);
            let scores = res.scores.into_pyarray(py);
            Ok((
                true,
                input_path,
                res.page_index,
                img,
                class_ids,
                scores,
                res.label_names,
            )
                .into_pyobject(py)?
                .into_any()
                .unbind())
        }
        Got::Failed {
            input_path,
            page_index,
            reason,
            missing,
        } => Ok((false, input_path, page_index, reason, missing)
            .into_pyobject(py)?
            .into_any()
            .unbind()),
    }
}

/// An RGB image as an H×W×3 uint8 numpy array (the buffer moves, no copy).
fn image_to_numpy(py: Python<'_>, image: RgbImage) -> PyResult<Py<PyAny>> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let flat: Bound<'_, PyArray1<u8>> = image.into_raw().into_pyarray(py);
    Ok(flat.reshape([h, w, 3])?.into_any().unbind())
}

/// An H×W×3 uint8 RGB numpy array as an image (a copy).
fn numpy_to_image(array: &PyReadonlyArrayDyn<'_, u8>) -> Result<RgbImage, BindingError> {
    let shape = array.shape().to_vec();
    let bad = || {
        BindingError::BadArray(format!(
            "input_img must be an H×W×3 uint8 array, got shape {shape:?}"
        ))
    };
    let view = array
        .as_array()
        .into_dimensionality::<Ix3>()
        .map_err(|_| bad())?;
    let (h, w, c) = view.dim();
    if c != 3 {
        return Err(bad());
    }
    let raw: Vec<u8> = match view.as_slice() {
        Some(flat) => flat.to_vec(),
        None => view.iter().copied().collect(),
    };
    RgbImage::from_raw(
        u32::try_from(w).map_err(|_| bad())?,
        u32::try_from(h).map_err(|_| bad())?,
        raw,
    )
    .ok_or_else(bad)
}

/// A result's fields as the library's `Classification` (`input_path` is
/// shown separately, so an array's `None` stays `None`).
fn classification(
    page_index: Option<usize>,
    class_ids: Vec<i32>,
    scores: Vec<f32>,
    label_names: Vec<String>,
) -> Classification {
    Classification {
        input_path: String::new(),
        page_index,
        class_ids,
        scores,
        label_names,
    }
}

/// The CLI's printed line for a result: `{'res': {...}}` with full arrays.
#[pyfunction]
#[pyo3(signature = (input_path, page_index, class_ids, scores, label_names))]
fn result_line(
    input_path: Option<&str>,
    page_index: Option<usize>,
    class_ids: Vec<i32>,
    scores: Vec<f32>,
    label_names: Vec<String>,
) -> String {
    result_line_as(
        &classification(page_index, class_ids, scores, label_names),
        input_path,
    )
}

/// Writes the CLI's JSON for a result to `path` (atomically).
#[pyfunction]
#[pyo3(signature = (path, input_path, page_index, class_ids, scores, label_names))]
fn save_json(
    py: Python<'_>,
    path: PathBuf,
    input_path: Option<&str>,
    page_index: Option<usize>,
    class_ids: Vec<i32>,
    scores: Vec<f32>,
    label_names: Vec<String>,
) -> PyResult<()> {
    let res = classification(page_index, class_ids, scores, label_names);
    py.detach(|| output::save_json_as(&res, input_path, &path))
        .map_err(|e| PyErr::from(BindingError::Save(e.to_string())))
}

/// Where a result's JSON and visualisation go for `save_path`, the CLI's
/// way: `(json_path, image_path)`. `name` stands for the input path.
#[pyfunction]
#[pyo3(signature = (save_path, name, page_index))]
fn output_paths(save_path: PathBuf, name: &str, page_index: Option<usize>) -> (PathBuf, PathBuf) {
    let paths = output::output_paths(&save_path, name, page_index);
    (paths.json, paths.image)
}

/// `input_img` with the label drawn as the CLI draws it (RGB H×W×3).
#[pyfunction]
fn draw_label(
    py: Python<'_>,
    input_img: PyReadonlyArrayDyn<'_, u8>,
    label: &str,
    score: f32,
) -> PyResult<Py<PyAny>> {
    let mut image = numpy_to_image(&input_img)?;
    let text = visualize::label_text(label, score);
    py.detach(|| visualize::draw_label_in_place(&mut image, &text));
    image_to_numpy(py, image)
}

/// Draws the label on `input_img` and writes it to `path`, encoded as its
/// suffix says: the CLI's visualisation bytes.
#[pyfunction]
#[pyo3(signature = (path, input_img, class_ids, scores, label_names))]
fn save_image(
    py: Python<'_>,
    path: PathBuf,
    input_img: PyReadonlyArrayDyn<'_, u8>,
    class_ids: Vec<i32>,
    scores: Vec<f32>,
    label_names: Vec<String>,
) -> PyResult<()> {
    let image = numpy_to_image(&input_img)?;
    let res = classification(None, class_ids, scores, label_names);
    py.detach(|| {
        let visual = if output::is_jpeg(&path) {
            Visual::for_jpeg(image)
        } else {
            Visual::Pixels(image)
        };
        save_visual(&res, visual, &path)
    })
    .map_err(|e| PyErr::from(BindingError::Save(e)))
}

/// A log line as the CLI writes it (`level`: info, warning, error), with
/// ANSI colours when `colored`.
#[pyfunction]
fn log_line(level: &str, message: &str, colored: bool) -> String {
    let level = match level {
        "warning" => Level::Warning,
        "error" => Level::Error,
        _ => Level::Info,
    };
    format_line(level, message, colored)
}

/// The Rust half of `paddlex_rs`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativePipeline>()?;
    m.add_class::<NativeRun>()?;
    m.add_function(wrap_pyfunction!(result_line, m)?)?;
    m.add_function(wrap_pyfunction!(save_json, m)?)?;
    m.add_function(wrap_pyfunction!(output_paths, m)?)?;
    m.add_function(wrap_pyfunction!(draw_label, m)?)?;
    m.add_function(wrap_pyfunction!(save_image, m)?)?;
    m.add_function(wrap_pyfunction!(log_line, m)?)?;
    m.add("ORT_VERSION", paddlex::runtime::library::ORT_VERSION)?;
    Ok(())
}
