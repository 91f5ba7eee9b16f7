//! The GPU runtime: ONNX Runtime's CUDA build (the `onnxruntime-gpu`
//! wheel) with NVIDIA's CUDA 13 and cuDNN 9 libraries from their own wheels.
//!
//! It is fetched into `<cache>/runtime/onnxruntime-gpu-<ver>/` the first
//! time a GPU is asked for on a machine with an NVIDIA driver, every wheel
//! pinned by its sha256, staged and renamed into place whole. Before ONNX
//! Runtime starts, the CUDA libraries are loaded into the process by path
//! (globally), so the CUDA provider finds them by name without
//! `LD_LIBRARY_PATH`. TensorRT is not on the package index: its libraries
//! must already be on the library path.

use std::path::{Path, PathBuf};

use crate::cache::{cache_home, locks_dir};
use crate::provision::{self, PinnedWheel, ProvisionError};

/// The onnxruntime-gpu release this build provisions (CUDA 13 build).
pub const GPU_ORT_VERSION: &str = "1.31.1";

/// The wheels of the GPU runtime, pinned by file hash (Linux x86-64, CPython 3.11).
pub const WHEELS: [PinnedWheel; 8] = [
    PinnedWheel {
        package: "onnxruntime-gpu",
        version: GPU_ORT_VERSION,
        sha256: "e26c475fe361b2015f45b4b824bd13f0bb20204e59b62814e6f0acd5f3d491a6",
    },
    PinnedWheel {
        package: "nvidia-cuda-runtime",
        version: "13.5.37",
        sha256: "df2b79a8852f10d1fef8c848489c49eebb5754051bf870202a862831412b179d",
    },
    PinnedWheel {
        package: "nvidia-cuda-nvrtc",
        version: "13.5.37",
        sha256: "86b4d68058807988b7d9af5b44917a0601e9c337f35ccd657bfb3c759ff8d8bc",
    },
    PinnedWheel {
        package: "nvidia-nvjitlink",
        version: "13.5.37",
        sha256: "280d7cb9649704145f074b8dbde500de04ce02d0872e066e20a83c17bcaa93eb",
    },
    PinnedWheel {
        package: "nvidia-cublas",
        version: "13.10.0.20",
        sha256: "dcc6d63884c53d07e267ce7e6feac17b2538cebaafec5db865736c3e28e4dc84",
    },
    PinnedWheel {
        package: "nvidia-cufft",
        version: "12.5.0.14",
        sha256: "b8be26837a5abad2b5b74f3e92dd29f622a42934b355be0961a48712cbba23ad",
    },
    PinnedWheel {
        package: "nvidia-curand",
        version: "10.4.5.25",
        sha256: "22bb226a857e5888fe6b54ae465fc4371296bcff13a35f79e19691bcf454f529",
    },
    PinnedWheel {
        package: "nvidia-cudnn-cu13",
        version: "9.28.1.4",
        sha256: "a54f205b1db1f2895d99f398754db1369816f0569dd459731f925635cf7b65ec",
    },
];

/// Where ONNX Runtime's libraries sit in its wheel; they land flat in the runtime folder.
const ORT_MEMBERS_DIR: &str = "onnxruntime/capi/";

/// The CUDA libraries loaded before ONNX Runtime, relative to the runtime
/// folder (the wheels' own layout is kept: cuDNN finds its parts and CUDA's
/// through `$ORIGIN`-relative search paths).
const PRELOAD: [&str; 8] = [
    "nvidia/cu13/lib/libcudart.so.13",
    "nvidia/cu13/lib/libnvJitLink.so.13",
    "nvidia/cu13/lib/libnvrtc.so.13",
    "nvidia/cu13/lib/libcublasLt.so.13",
    "nvidia/cu13/lib/libcublas.so.13",
    "nvidia/cu13/lib/libcurand.so.10",
    "nvidia/cu13/lib/libcufft.so.12",
    "nvidia/cudnn/lib/libcudnn.so.9",
];

/// The TensorRT 10 libraries the TensorRT provider links against.
const TENSORRT_LIBS: [&str; 2] = ["libnvinfer.so.10", "libnvonnxparser.so.10"];

/// Why the GPU runtime is unusable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GpuRuntimeError {
    /// Fetching failed.
    #[error("the GPU runtime (onnxruntime-gpu {GPU_ORT_VERSION} with CUDA 13 and cuDNN 9) could not be fetched: {0}")]
    Provision(#[from] ProvisionError),
    /// A library of the runtime folder does not load.
    #[error("{0}")]
    Load(String),
}

/// The runtime folder in the cache.
pub(crate) fn runtime_dir() -> PathBuf {
    cache_home()
        .join("runtime")
        .join(format!("onnxruntime-gpu-{GPU_ORT_VERSION}"))
}

/// `libonnxruntime.so.<ver>` inside a runtime folder.
pub(crate) fn library_in(dir: &Path) -> PathBuf {
    dir.join(format!("libonnxruntime.so.{GPU_ORT_VERSION}"))
}

/// Whether the GPU runtime is already in the cache (nothing is fetched).
pub(crate) fn is_provisioned() -> bool {
    library_in(&runtime_dir()).is_file()
}

/// The GPU runtime's `libonnxruntime`, fetched into the cache if missing,
/// with its CUDA libraries loaded into the process.
pub(crate) fn prepare() -> Result<PathBuf, GpuRuntimeError> {
    let dir = runtime_dir();
    if !library_in(&dir).is_file() {
        provision_into(&dir)?;
    }
    preload(&dir)?;
    Ok(library_in(&dir))
}

/// Fetches the wheels and lays out `dir`: ONNX Runtime's libraries at the
/// top, NVIDIA's under `nvidia/`. Staged beside `dir` and renamed whole.
fn provision_into(dir: &Path) -> Result<(), ProvisionError> {
    let installed = provision::install(
        &locks_dir().join("runtime"),
        &format!("onnxruntime-gpu-{GPU_ORT_VERSION}"),
        dir,
        |dir| library_in(dir).is_file(),
        |staging| {
            eprintln!(
                "Fetching the GPU runtime (onnxruntime-gpu {GPU_ORT_VERSION}, CUDA 13, cuDNN 9; about 1.6 GB) from the package index ..."
            );
            let root = staging.join("runtime");
            let wheels_dir = staging.join("wheels");
            let hint = ", or set ORT_DYLIB_PATH to an onnxruntime-gpu libonnxruntime.so and LD_LIBRARY_PATH to CUDA 13 and cuDNN 9";
            let wheels = provision::download_pinned(&WHEELS, &wheels_dir, hint)?;
            for wheel in &wheels {
                provision::extract_matching(wheel, &root, runtime_member)?;
                // The wheels are large: free the space as soon as each is unpacked.
                let _ = std::fs::remove_file(wheel);
            }
            if !library_in(&root).is_file() {
                return Err(ProvisionError::MissingMember {
                    wheel: "onnxruntime-gpu".into(),
                    member: format!("{ORT_MEMBERS_DIR}libonnxruntime.so.{GPU_ORT_VERSION}"),
                });
            }
            Ok(root)
        },
    )?;
    if installed == provision::Installed::Now {
        eprintln!("Installed the GPU runtime into {}", dir.display());
    }
    Ok(())
}

/// Where a wheel member goes in the runtime folder, if it is kept: ONNX
/// Runtime's shared libraries flat, NVIDIA's shared libraries as laid out.
fn runtime_member(name: &str) -> Option<PathBuf> {
    let file = name.rsplit('/').next()?;
    let shared = file.starts_with("lib") && (file.ends_with(".so") || file.contains(".so."));
    // The wheels are pinned, but a path that climbs out is refused all the same.
    if !shared || name.split('/').any(|part| part == "..") {
        return None;
    }
    if let Some(rest) = name.strip_prefix(ORT_MEMBERS_DIR) {
        return (!rest.contains('/')).then(|| PathBuf::from(rest));
    }
    (name.starts_with("nvidia/") && name.contains("/lib/")).then(|| PathBuf::from(name))
}

/// Loads the CUDA libraries of `dir` into the process, globally, in an
/// order that satisfies their dependencies on each other (found by
/// retrying: a library whose dependency is not loaded yet fails and is
/// tried again on the next round).
pub(crate) fn preload(dir: &Path) -> Result<(), GpuRuntimeError> {
    let paths: Vec<PathBuf> = PRELOAD.iter().map(|p| dir.join(p)).collect();
    load_in_dependency_order(&paths, |path| {
        open_global(path).map(|lib| {
            // Kept loaded for the life of the process: ONNX Runtime's CUDA
            // provider resolves these libraries by name when it loads.
            std::mem::forget(lib);
        })
    })
    .map_err(GpuRuntimeError::Load)
}

/// Runs `load` on every path until all succeed or a round makes no progress;
/// the error names the libraries left and the last reason for each.
fn load_in_dependency_order(
    paths: &[PathBuf],
    mut load: impl FnMut(&Path) -> Result<(), String>,
) -> Result<(), String> {
    let mut pending: Vec<&PathBuf> = paths.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut reasons = Vec::new();
        pending.retain(|path| match load(path) {
            Ok(()) => false,
            Err(reason) => {
                reasons.push(reason);
                true
            }
        });
        if pending.len() == before {
            return Err(format!(
                "the CUDA libraries of the GPU runtime do not load: {}",
                reasons.join("; ")
            ));
        }
    }
    Ok(())
}

fn open_global(path: &Path) -> Result<libloading::os::unix::Library, String> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    if !path.is_file() {
        return Err(format!("{} is missing", path.display()));
    }
    // SAFETY: loading a shared library runs its initialisers; these are the
    // CUDA libraries ONNX Runtime's CUDA provider would load anyway.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_GLOBAL) }.map_err(|e| e.to_string())
}

/// Checks that TensorRT 10 can be loaded (the TensorRT provider needs it
/// and cannot say so clearly itself).
pub(crate) fn check_tensorrt() -> Result<(), String> {
    for name in TENSORRT_LIBS {
        // SAFETY: probing for the library; nothing is called.
        if unsafe { libloading::Library::new(name) }.is_err() {
            return Err(format!(
                "TensorRT 10 is not installed ({name} is not on the library path); TensorRT is not on the package index: install it from NVIDIA and add its lib folder to LD_LIBRARY_PATH"
            ));
        }
    }
    Ok(())
}

/// ONNX Runtime's message for a provider that failed to register, without
/// its source location, and with the usual cause of a CUDA 13 provider
/// that does not load said plainly.
pub(crate) fn explain_provider_error(message: &str) -> String {
    let plain = message
        .split_once("FAIL : ")
        .map_or(message, |(_, rest)| rest)
        .trim();
    match plain.split_once("undefined symbol: cu") {
        Some((_, symbol)) => format!(
            "the NVIDIA driver is too old for CUDA 13 (its libcuda.so.1 lacks cu{symbol}; CUDA 13 needs driver 580 or newer)"
        ),
        None => plain.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_shared_libraries_where_the_loader_expects_them() {
        let keep = |n: &str| runtime_member(n).map(|p| p.display().to_string());
        assert_eq!(
            keep("onnxruntime/capi/libonnxruntime.so.1.31.1").as_deref(),
            Some("libonnxruntime.so.1.31.1")
        );
        assert_eq!(
            keep("onnxruntime/capi/libonnxruntime_providers_cuda.so").as_deref(),
            Some("libonnxruntime_providers_cuda.so")
        );
        assert_eq!(
            keep("nvidia/cudnn/lib/libcudnn_graph.so.9").as_deref(),
            Some("nvidia/cudnn/lib/libcudnn_graph.so.9")
        );
        for skipped in [
            "onnxruntime/capi/onnxruntime_pybind11_state.cpython-311-x86_64-linux-gnu.so",
            "onnxruntime/capi/_pybind_state.py",
            "nvidia/cu13/include/cublas.h",
            "onnxruntime/tools/lib/libx.so",
            "nvidia_cublas-13.10.0.20.dist-info/RECORD",
            "nvidia/cu13/lib/../../../../etc/libx.so",
        ] {
            assert_eq!(keep(skipped), None, "{skipped}");
        }
        assert!(PRELOAD.iter().all(|p| runtime_member(p).is_some()));
        assert_eq!(WHEELS.len(), 8);
        assert!(WHEELS.iter().all(|w| w.sha256.len() == 64));
    }

    #[test]
    fn loads_in_dependency_order_or_names_what_is_missing() {
        // b needs a, c needs b: listed backwards, they load in three rounds.
        let paths: Vec<PathBuf> = ["c", "b", "a"].iter().map(PathBuf::from).collect();
        let mut loaded: Vec<String> = Vec::new();
        load_in_dependency_order(&paths, |p| {
            let name = p.display().to_string();
            let needs = match name.as_str() {
                "c" => Some("b"),
                "b" => Some("a"),
                _ => None,
            };
            match needs {
                Some(dep) if !loaded.iter().any(|l| l == dep) => Err(format!("{name} needs {dep}")),
                _ => {
                    loaded.push(name);
                    Ok(())
                }
            }
        })
        .unwrap();
        assert_eq!(loaded, ["a", "b", "c"]);

        let err = load_in_dependency_order(&paths, |p| {
            Err(format!("{}: cannot open shared object file", p.display()))
        })
        .unwrap_err();
        assert!(
            err.contains("c: cannot open") && err.contains("a: cannot open"),
            "{err}"
        );
    }

    #[test]
    fn provider_errors_are_made_plain() {
        let raw = "/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:2043 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /c/libonnxruntime_providers_cuda.so with error: /c/libonnxruntime_providers_cuda.so: undefined symbol: cuTensorMapEncodeTiled";
        assert_eq!(
            explain_provider_error(raw),
            "the NVIDIA driver is too old for CUDA 13 (its libcuda.so.1 lacks cuTensorMapEncodeTiled; CUDA 13 needs driver 580 or newer)"
        );
        let raw = "x.cc:1 f() [ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcuda.so.1: cannot open shared object file: No such file or directory";
        assert!(explain_provider_error(raw)
            .starts_with("Failed to load library libonnxruntime_providers_cuda.so"));
        assert_eq!(explain_provider_error("plain"), "plain");
    }

    #[test]
    fn a_missing_library_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = preload(dir.path()).unwrap_err().to_string();
        assert!(err.contains("libcudart.so.13 is missing"), "{err}");
    }
}
