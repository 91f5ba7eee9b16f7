//! Loading sessions as a plan says, with the GPU → CPU fallback at load
//! time (the probe-time fallback is in [`super::plan`]).

use std::path::Path;

use super::device::Device;
use super::plan::{fallback_allowed, Backend, ExecutionPlan, PlanError};
use super::session::{Classifier, RuntimeError};
use crate::log;

/// Why no session could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The runtime or the model failed to load.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The device failed and falling back is not allowed.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Loads `count` sessions of `onnx` as `plan` says, dealt over the plan's
/// device ids. When a GPU or NPU provider cannot be registered with the
/// onnxruntime backend, the CPU is used instead (with a warning if the
/// device was asked for), unless `PADDLE_PDX_DISABLE_DEVICE_FALLBACK` is
/// set. Returns the sessions and the plan that really runs.
pub(crate) fn load_sessions(
    onnx: &Path,
    plan: &ExecutionPlan,
    count: usize,
) -> Result<(Vec<Classifier>, ExecutionPlan), LoadError> {
    let ids = if plan.device.is_cpu() || plan.device.ids.is_empty() {
        vec![0]
    } else {
        plan.device.ids.clone()
    };
    let loaded: Result<Vec<Classifier>, RuntimeError> = (0..count.max(1))
        .map(|i| Classifier::load_with(onnx, plan, ids[i % ids.len()]))
        .collect();
    match loaded {
        Ok(classifiers) => Ok((classifiers, plan.clone())),
        Err(e @ RuntimeError::Provider { .. })
            if !plan.device.is_cpu() && plan.backend == Backend::OnnxRuntime =>
        {
            let reason = format!("{} was requested but {e}", plan.device);
            fallback_allowed(&reason)?;
            if plan.requested {
                log::warn(&format!("{reason}; falling back to CPU"));
            }
            let cpu = ExecutionPlan {
                device: Device::cpu(),
                ..plan.clone()
            };
            let classifiers = (0..count.max(1))
                .map(|_| Classifier::load_with(onnx, &cpu, 0))
                .collect::<Result<_, _>>()?;
            Ok((classifiers, cpu))
        }
        Err(e) => Err(e.into()),
    }
}
