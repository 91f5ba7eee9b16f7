//! Where and how inference runs: the device (with PaddleX's GPU → CPU
//! fallback), the backend (`--use_hpip` / `hpi_config`) and its settings,
//! turned into ONNX Runtime execution providers.

use std::path::{Path, PathBuf};

use super::device::{Device, DeviceError, DeviceKind};
use super::hpi::{HpiConfig, HpiError, ProfileShapes};
use super::threads::{cpu_threads, cpu_threads_when_saving};

/// The inference backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// ONNX Runtime's own kernels (CPU), CUDA on GPUs, CANN on NPUs.
    OnnxRuntime,
    /// TensorRT through ONNX Runtime (GPU only).
    TensorRt,
    /// OpenVINO through ONNX Runtime (CPU only; needs a runtime built with it).
    OpenVino,
}

impl Backend {
    /// PaddleX's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::OnnxRuntime => "onnxruntime",
            Backend::TensorRt => "tensorrt",
            Backend::OpenVino => "openvino",
        }
    }
}

/// Everything session creation needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionPlan {
    /// The device inference runs on (after any fallback).
    pub device: Device,
    /// The backend.
    pub backend: Backend,
    /// CPU intra-op threads.
    pub threads: usize,
    /// ONNX Runtime graph optimisation level, 0 (off) to 3 (all).
    pub optimization_level: u8,
    /// TensorRT in half precision.
    pub fp16: bool,
    /// Where TensorRT keeps its engines.
    pub engine_cache: Option<PathBuf>,
    /// TensorRT's optimisation profile, when configured.
    pub trt_shapes: Option<ProfileShapes>,
    /// `--device` was given (a failed GPU is then worth a warning).
    pub requested: bool,
}

impl ExecutionPlan {
    /// ONNX Runtime on the CPU with `threads` intra-op threads, all graph optimisations.
    pub(crate) fn cpu(threads: usize) -> Self {
        ExecutionPlan {
            device: Device::cpu(),
            backend: Backend::OnnxRuntime,
            threads,
            optimization_level: 3,
            fp16: false,
            engine_cache: None,
            trt_shapes: None,
            requested: false,
        }
    }
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A malformed `--device`.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Unusable HPI settings.
    #[error(transparent)]
    Hpi(#[from] HpiError),
    /// A device type this build cannot drive.
    #[error("this build does not support {0} hardware (supported: cpu, gpu via CUDA/TensorRT, npu via CANN)")]
    Hardware(String),
    /// The device is unusable and fallback is disabled.
    #[error("{0}, and PADDLE_PDX_DISABLE_DEVICE_FALLBACK is set")]
    NoFallback(String),
    /// A backend that cannot run on the device.
    #[error("backend {backend} cannot run on {device}: {why}")]
    Impossible {
        /// The backend asked for.
        backend: String,
        /// The device.
        device: String,
        /// Why.
        why: String,
    },
}

/// What a plan is made from.
pub(crate) struct PlanRequest<'a> {
    /// `--device`.
    pub device: Option<&'a str>,
    /// `--use_hpip` or the YAML's `use_hpip`.
    pub use_hpip: bool,
    /// The merged `hpi_config`.
    pub hpi: &'a HpiConfig,
    /// The model directory (TensorRT engines are cached there).
    pub model_dir: &'a Path,
    /// The `Hpi` section of the model's `inference.yml`.
    pub hpi_info: Option<&'a serde_yaml::Value>,
    /// Results are saved (visualisations encoded): fewer inference threads by default.
    pub saving: bool,
}

impl ExecutionPlan {
    /// Picks the device and backend. Returns the plan and, when a requested
    /// device is unusable and the CPU is used instead, the warning to show.
    pub(crate) fn choose(
        req: &PlanRequest,
        probe: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(ExecutionPlan, Option<String>), PlanError> {
        let requested = req.device.is_some();
        let mut device = match req.device {
            Some(text) => Device::parse(text)?,
            // Only a GPU runtime already at hand makes the GPU the default:
            // fetching 1.6 GB is for when a GPU is asked for.
            None if probe(GPU_RUNTIME).is_none() && probe("gpu").is_none() => Device::gpu(),
            None => Device::cpu(),
        };
        if !matches!(
            device.kind,
            DeviceKind::Cpu | DeviceKind::Gpu | DeviceKind::Npu
        ) {
            return Err(PlanError::Hardware(device.kind.to_string()));
        }
        let mut warning = None;
        if !device.is_cpu() {
            if let Some(reason) = probe(device.kind.as_str()) {
                let reason = format!("{device} was requested but {reason}");
                fallback_allowed(&reason)?;
                warning = requested.then(|| format!("{reason}; falling back to CPU"));
                device = Device::cpu();
            }
        }
        let backend = backend(req, &device)?;
        let default_threads = if req.saving {
            cpu_threads_when_saving
        } else {
            cpu_threads
        };
        let threads = req
            .hpi
            .int("cpu_num_threads")
            .filter(|n| *n > 0)
            .map_or_else(default_threads, |n| n as usize);
        let optimization_level = optimization_level(req.hpi);
        let fp16 = req
            .hpi
            .string("precision")
            .is_some_and(|p| p.eq_ignore_ascii_case("fp16"));
        let tensorrt = backend == Backend::TensorRt;
        let engine_cache = tensorrt.then(|| req.model_dir.join(".trt_cache"));
        let trt_shapes = if tensorrt {
            req.hpi.profile_shapes(req.hpi_info)?
        } else {
            None
        };
        let plan = ExecutionPlan {
            device,
            backend,
            threads,
            optimization_level,
            fp16,
            engine_cache,
            trt_shapes,
            requested,
        };
        Ok((plan, warning))
    }
}

/// Errors when `PADDLE_PDX_DISABLE_DEVICE_FALLBACK` is set.
pub(crate) fn fallback_allowed(reason: &str) -> Result<(), PlanError> {
    match std::env::var_os("PADDLE_PDX_DISABLE_DEVICE_FALLBACK") {
        Some(v)
            if !v.is_empty() && v != "0" && v.to_string_lossy().to_ascii_lowercase() != "false" =>
        {
            Err(PlanError::NoFallback(reason.to_string()))
        }
        _ => Ok(()),
    }
}

fn backend(req: &PlanRequest, device: &Device) -> Result<Backend, PlanError> {
    if !req.use_hpip {
        return Ok(Backend::OnnxRuntime);
    }
    let impossible = |backend: &str, why: &str| PlanError::Impossible {
        backend: backend.into(),
        device: device.to_string(),
        why: why.into(),
    };
    match req.hpi.backend.as_deref() {
        None | Some("onnxruntime") => Ok(Backend::OnnxRuntime),
        Some("tensorrt") if device.kind == DeviceKind::Gpu => Ok(Backend::TensorRt),
        Some("tensorrt") => Err(impossible(
            "tensorrt",
            "TensorRT needs an NVIDIA GPU (--device gpu:N)",
        )),
        Some("openvino") if device.is_cpu() => Ok(Backend::OpenVino),
        Some("openvino") => Err(impossible("openvino", "OpenVINO runs on the CPU only")),
        Some("paddle") => Err(impossible(
            "paddle",
            "paddlex-rs runs ONNX models; Paddle Inference is not available",
        )),
        Some("om") => Err(impossible(
            "om",
            "Ascend OM models are not supported; use the onnxruntime backend (CANN)",
        )),
        Some(other) => Err(impossible(
            other,
            "unknown backend (known: onnxruntime, tensorrt, openvino, paddle, om)",
        )),
    }
}

/// `graph_optimization_level`: 0–3, 99 (= all), or ORT's names.
fn optimization_level(hpi: &HpiConfig) -> u8 {
    if let Some(n) = hpi.int("graph_optimization_level") {
        return n.clamp(0, 3) as u8;
    }
    match hpi
        .string("graph_optimization_level")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("ORT_DISABLE_ALL") => 0,
        Some("ORT_ENABLE_BASIC") => 1,
        Some("ORT_ENABLE_EXTENDED") => 2,
        _ => 3,
    }
}

/// The probe's name for "the GPU build of ONNX Runtime is at hand".
pub(crate) const GPU_RUNTIME: &str = "gpu-runtime";

/// Why `kind` hardware is unusable on this machine, or `None` when a driver
/// is there ([`GPU_RUNTIME`]: when the GPU runtime is in the cache or
/// `ORT_DYLIB_PATH` names a library).
pub(crate) fn probe_hardware(kind: &str) -> Option<String> {
    match kind {
        GPU_RUNTIME
            if super::gpu::is_provisioned() || super::library::user_library_path().is_some() =>
        {
            None
        }
        GPU_RUNTIME => Some("the GPU runtime has not been fetched yet".into()),
        "gpu" if nvidia_driver_present() => None,
        "gpu" => Some("no NVIDIA driver was found".into()),
        "npu" if Path::new("/usr/local/Ascend").is_dir() => None,
        "npu" => Some("no Ascend (CANN) installation was found".into()),
        _ => None,
    }
}

/// The NVIDIA driver's kernel module is loaded, or its user-space library is
/// installed (WSL and some containers have no `/proc` entry). Looked up as
/// files: loading `libcuda.so.1` would run its initialisers on every run.
fn nvidia_driver_present() -> bool {
    if Path::new("/proc/driver/nvidia/version").is_file() {
        return true;
    }
    let from_env = std::env::var_os("LD_LIBRARY_PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    from_env
        .iter()
        .map(PathBuf::as_path)
        .chain(DRIVER_LIBRARY_DIRS.iter().map(Path::new))
        .any(|dir| dir.join("libcuda.so.1").is_file())
}

/// Where distributions, WSL and the NVIDIA container runtime put `libcuda.so.1`.
const DRIVER_LIBRARY_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/lib/wsl/lib",
    "/usr/local/nvidia/lib64",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(device: Option<&'a str>, use_hpip: bool, hpi: &'a HpiConfig) -> PlanRequest<'a> {
        PlanRequest {
            device,
            use_hpip,
            hpi,
            model_dir: Path::new("m"),
            hpi_info: None,
            saving: false,
        }
    }

    fn no_gpu(kind: &str) -> Option<String> {
        (kind != "cpu").then(|| "no NVIDIA driver was found".to_string())
    }

    fn gpu_ok(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn default_device_is_gpu_when_usable_else_cpu() {
        let hpi = HpiConfig::default();
        let (plan, warning) = ExecutionPlan::choose(&request(None, false, &hpi), &gpu_ok).unwrap();
        assert_eq!(plan.device.to_string(), "gpu:0");
        assert_eq!(warning, None);
        let (plan, warning) = ExecutionPlan::choose(&request(None, false, &hpi), &no_gpu).unwrap();
        assert_eq!(plan.device, Device::cpu());
        assert_eq!(warning, None, "no warning when nothing was asked for");
        let not_fetched = |kind: &str| (kind == GPU_RUNTIME).then(|| "not fetched".to_string());
        let (plan, warning) =
            ExecutionPlan::choose(&request(None, false, &hpi), &not_fetched).unwrap();
        assert_eq!((plan.device, warning), (Device::cpu(), None));
        let (plan, _) =
            ExecutionPlan::choose(&request(Some("gpu:0"), false, &hpi), &not_fetched).unwrap();
        assert_eq!(
            plan.device.to_string(),
            "gpu:0",
            "asked for: fetched when loading"
        );
    }

    #[test]
    fn requested_gpu_falls_back_with_a_reason() {
        let hpi = HpiConfig::default();
        let (plan, warning) =
            ExecutionPlan::choose(&request(Some("gpu:1"), false, &hpi), &no_gpu).unwrap();
        assert_eq!(plan.device, Device::cpu());
        assert_eq!(
            warning.unwrap(),
            "gpu:1 was requested but no NVIDIA driver was found; falling back to CPU"
        );
    }

    #[test]
    fn unsupported_hardware_and_impossible_backends() {
        let hpi = HpiConfig::default();
        assert_eq!(
            ExecutionPlan::choose(&request(Some("xpu:0"), false, &hpi), &gpu_ok).unwrap_err(),
            PlanError::Hardware("xpu".into())
        );
        let trt = HpiConfig {
            backend: Some("tensorrt".into()),
            ..Default::default()
        };
        let err = ExecutionPlan::choose(&request(Some("cpu"), true, &trt), &gpu_ok).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("backend tensorrt cannot run on cpu"),
            "{err}"
        );
        let (p, _) = ExecutionPlan::choose(&request(Some("gpu:0"), true, &trt), &gpu_ok).unwrap();
        assert_eq!(
            (p.backend, p.engine_cache.clone()),
            (Backend::TensorRt, Some(PathBuf::from("m/.trt_cache")))
        );
        let ov = HpiConfig {
            backend: Some("openvino".into()),
            ..Default::default()
        };
        assert!(ExecutionPlan::choose(&request(Some("gpu:0"), true, &ov), &gpu_ok).is_err());
        assert_eq!(
            ExecutionPlan::choose(&request(Some("cpu"), true, &ov), &gpu_ok)
                .unwrap()
                .0
                .backend,
            Backend::OpenVino
        );
        let paddle = HpiConfig {
            backend: Some("paddle".into()),
            ..Default::default()
        };
        assert!(ExecutionPlan::choose(&request(Some("cpu"), true, &paddle), &gpu_ok).is_err());
    }

    #[test]
    fn saving_runs_default_to_fewer_inference_threads() {
        let hpi = HpiConfig::default();
        let saving = PlanRequest {
            saving: true,
            ..request(Some("cpu"), false, &hpi)
        };
        let (p, _) = ExecutionPlan::choose(&saving, &gpu_ok).unwrap();
        assert_eq!(p.threads, cpu_threads_when_saving());
        assert!(cpu_threads_when_saving() <= cpu_threads());
        let three =
            HpiConfig::resolve(None, Some("{'backend_config': {'cpu_num_threads': 3}}")).unwrap();
        let explicit = PlanRequest {
            saving: true,
            ..request(Some("cpu"), true, &three)
        };
        assert_eq!(
            ExecutionPlan::choose(&explicit, &gpu_ok).unwrap().0.threads,
            3
        );
    }

    #[test]
    fn backend_config_sets_threads_level_and_precision() {
        let hpi = HpiConfig::resolve(None, Some("{'backend': 'onnxruntime', 'backend_config': {'cpu_num_threads': 3, 'graph_optimization_level': 'ORT_ENABLE_BASIC', 'precision': 'fp16'}}")).unwrap();
        let (p, _) = ExecutionPlan::choose(&request(Some("cpu"), true, &hpi), &gpu_ok).unwrap();
        assert_eq!((p.threads, p.optimization_level, p.fp16), (3, 1, true));
        // Without --use_hpip the backend stays onnxruntime whatever hpi_config says.
        let trt = HpiConfig {
            backend: Some("tensorrt".into()),
            ..Default::default()
        };
        assert_eq!(
            ExecutionPlan::choose(&request(Some("cpu"), false, &trt), &gpu_ok)
                .unwrap()
                .0
                .backend,
            Backend::OnnxRuntime
        );
    }
}
