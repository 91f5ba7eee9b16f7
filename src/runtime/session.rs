//! The classifier session: one ONNX Runtime session fed `[N, C, H, W]` batches,
//! returning the first output's rows (PaddleX uses `outputs[0]`, already
//! probabilities: no softmax here).

use std::path::Path;

use ort::ep::{self, ExecutionProviderDispatch};
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::device::DeviceKind;
use super::plan::{Backend, ExecutionPlan};
use super::{gpu, library};

/// Why inference failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The runtime library could not be loaded.
    #[error("{0}")]
    Library(String),
    /// The model could not be loaded.
    #[error("cannot load the model {path}: {reason}")]
    Load {
        /// The ONNX file.
        path: String,
        /// ONNX Runtime's message.
        reason: String,
    },
    /// The model does not look like a classifier.
    #[error("{path}: {reason}")]
    Shape {
        /// The ONNX file.
        path: String,
        /// What does not fit.
        reason: String,
    },
    /// An execution provider could not be registered (missing libraries,
    /// no device, a runtime built without it).
    #[error("{provider} is not usable: {reason}")]
    Provider {
        /// The provider.
        provider: String,
        /// ONNX Runtime's message.
        reason: String,
    },
    /// A run failed.
    #[error("inference failed: {0}")]
    Run(String),
}

/// An ONNX classifier ready to run.
pub struct Classifier {
    session: Session,
    input_name: String,
    path: String,
}

impl Classifier {
    /// Loads `onnx` on the CPU with `threads` intra-op threads.
    pub fn load(onnx: &Path, threads: usize) -> Result<Self, RuntimeError> {
        Self::load_with(onnx, &ExecutionPlan::cpu(threads), 0)
    }

    /// Loads `onnx` as `plan` says, on device `device_id` of the plan's device.
    /// Providers are registered so that a failure is an error, never a silent
    /// fall back to the CPU inside ONNX Runtime.
    pub(crate) fn load_with(
        onnx: &Path,
        plan: &ExecutionPlan,
        device_id: u32,
    ) -> Result<Self, RuntimeError> {
        let env = runtime_for(plan)?;
        let path = onnx.display().to_string();
        let load = |e: ort::Error| RuntimeError::Load {
            path: path.clone(),
            reason: e.to_string(),
        };
        let level = match plan.optimization_level {
            0 => GraphOptimizationLevel::Disable,
            1 => GraphOptimizationLevel::Level1,
            2 => GraphOptimizationLevel::Level2,
            _ => GraphOptimizationLevel::Level3,
        };
        let builder = Session::builder(env)
            .map_err(load)?
            .with_optimization_level(level)
            .map_err(|e| load(e.into()))?
            .with_intra_threads(plan.threads)
            .map_err(|e| load(e.into()))?
            // Spinning intra-op threads burn the cores that decoding needs
            // while the next batch is prepared.
            .with_intra_op_spinning(false)
            .map_err(|e| load(e.into()))?;
        let providers = providers(plan, device_id);
        let builder = if providers.is_empty() {
            builder
        } else {
            builder
                .with_execution_providers(providers)
                .map_err(|e| RuntimeError::Provider {
                    provider: provider_name(plan).into(),
                    reason: gpu::explain_provider_error(&e.to_string()),
                })?
        };
        let mut builder = builder;
        let session = builder.commit_from_file(onnx).map_err(load)?;
        let input_name = session
            .inputs()
            .first()
            .map(|i| i.name().to_string())
            .ok_or_else(|| RuntimeError::Shape {
                path: path.clone(),
                reason: "the model has no input".into(),
            })?;
        if session.outputs().is_empty() {
            return Err(RuntimeError::Shape {
                path,
                reason: "the model has no output".into(),
            });
        }
        Ok(Classifier {
            session,
            input_name,
            path,
        })
    }

    /// Labels stored in the model's metadata (`labels` or `character`,
    /// newline-separated), if any.
    pub(crate) fn metadata_labels(&self) -> Option<Vec<String>> {
        let meta = self.session.metadata().ok()?;
        ["labels", "character"].iter().find_map(|key| {
            meta.custom(key)
                .filter(|v| !v.is_empty())
                .map(|v| v.lines().map(str::to_string).collect())
        })
    }

    /// Runs one batch (`shape` = `[N, ...]`, `data` row-major) and returns the
    /// first output as `N` rows.
    pub fn run(&mut self, data: &[f32], shape: &[usize]) -> Result<Vec<Vec<f32>>, RuntimeError> {
        let run = |e: ort::Error| RuntimeError::Run(e.to_string());
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let input = TensorRef::from_array_view((dims, data)).map_err(run)?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => input])
            .map_err(run)?;
        let (out_shape, values) = outputs[0].try_extract_tensor::<f32>().map_err(run)?;
        let n = shape.first().copied().unwrap_or(0);
        split_rows(values, out_shape.iter().copied(), n).map_err(|reason| RuntimeError::Shape {
            path: self.path.clone(),
            reason,
        })
    }
}

/// The ONNX Runtime environment for `plan`: for a GPU, the GPU build, and
/// for TensorRT its libraries, checked up front so that what is missing is
/// named plainly (as a provider error, which may fall back to the CPU).
fn runtime_for(
    plan: &ExecutionPlan,
) -> Result<&'static ort::environment::Environment, RuntimeError> {
    let gpu = plan.device.kind == DeviceKind::Gpu;
    let runtime = library::runtime(gpu).map_err(RuntimeError::Library)?;
    let unusable = |reason: String| RuntimeError::Provider {
        provider: provider_name(plan).into(),
        reason,
    };
    if gpu {
        if let Some(reason) = &runtime.gpu_unusable {
            return Err(unusable(reason.clone()));
        }
        if plan.backend == Backend::TensorRt {
            gpu::check_tensorrt().map_err(unusable)?;
        }
    }
    Ok(&runtime.environment)
}

/// The execution providers for `plan` on device `id`, each set to fail loudly.
fn providers(plan: &ExecutionPlan, id: u32) -> Vec<ExecutionProviderDispatch> {
    let id = id as i32;
    match (plan.device.kind, plan.backend) {
        (DeviceKind::Gpu, Backend::TensorRt) => {
            let mut trt = ep::TensorRT::default()
                .with_device_id(id)
                .with_fp16(plan.fp16);
            if let Some(dir) = &plan.engine_cache {
                trt = trt
                    .with_engine_cache(true)
                    .with_engine_cache_path(dir.display());
            }
            if let Some(shapes) = &plan.trt_shapes {
                trt = trt
                    .with_profile_min_shapes(&shapes.min)
                    .with_profile_opt_shapes(&shapes.opt)
                    .with_profile_max_shapes(&shapes.max);
            }
            // CUDA runs whatever TensorRT does not take.
            vec![
                trt.build().error_on_failure(),
                ep::CUDA::default()
                    .with_device_id(id)
                    .build()
                    .error_on_failure(),
            ]
        }
        (DeviceKind::Gpu, _) => vec![ep::CUDA::default()
            .with_device_id(id)
            .build()
            .error_on_failure()],
        (DeviceKind::Npu, _) => vec![ep::CANN::default()
            .with_device_id(id)
            .build()
            .error_on_failure()],
        (_, Backend::OpenVino) => vec![ep::OpenVINO::default()
            .with_device_type("CPU")
            .build()
            .error_on_failure()],
        _ => Vec::new(),
    }
}

/// The provider a plan asks for, for messages.
pub(crate) fn provider_name(plan: &ExecutionPlan) -> &'static str {
    match (plan.device.kind, plan.backend) {
        (DeviceKind::Gpu, Backend::TensorRt) => "TensorrtExecutionProvider",
        (DeviceKind::Gpu, _) => "CUDAExecutionProvider",
        (DeviceKind::Npu, _) => "CANNExecutionProvider",
        (_, Backend::OpenVino) => "OpenVINOExecutionProvider",
        _ => "CPUExecutionProvider",
    }
}

/// Splits a `[N, C]` (or `[N, C, 1, 1]`) output into N rows.
fn split_rows(
    values: &[f32],
    shape: impl Iterator<Item = i64>,
    n: usize,
) -> Result<Vec<Vec<f32>>, String> {
    let dims: Vec<i64> = shape.collect();
    if dims.first().copied() != Some(n as i64) || n == 0 {
        return Err(format!(
            "the first output has shape {dims:?}, expected [{n}, classes]"
        ));
    }
    let per_row = values.len() / n;
    Ok(values.chunks(per_row.max(1)).map(<[f32]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rows_and_checks_the_batch_dim() {
        let rows = split_rows(&[1., 2., 3., 4., 5., 6.], [2i64, 3].into_iter(), 2).unwrap();
        assert_eq!(rows, vec![vec![1., 2., 3.], vec![4., 5., 6.]]);
        assert!(split_rows(&[1., 2.], [1i64, 2].into_iter(), 2).is_err());
    }
}
