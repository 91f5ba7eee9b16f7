//! Where `libonnxruntime.so` comes from: `ORT_DYLIB_PATH`, next to the binary,
//! or the cache, in that order; provisioned from the `onnxruntime` wheel into
//! the cache when none is found.
//!
//! The file is checked (exists, loads, exports `OrtGetApiBase`) before it is
//! handed to `ort`: a bad path has been seen to hang `ort` instead of failing.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::cache::{cache_home, locks_dir};
use crate::provision::{self, ProvisionError, WheelMember, WheelSource};

/// The ONNX Runtime release this build provisions.
pub const ORT_VERSION: &str = "1.32.0";

const ORT_WHEEL: WheelSource = WheelSource {
    package: "onnxruntime",
    version: ORT_VERSION,
    platform: Some(("manylinux_2_28_x86_64", "3.11")),
};

const ORT_LIBRARY: WheelMember = WheelMember {
    member: "onnxruntime/capi/libonnxruntime.so.1.32.0",
    sha256: Some("6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f"),
};

/// Why the runtime could not be loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LibraryError {
    /// `ORT_DYLIB_PATH` names nothing.
    #[error("ORT_DYLIB_PATH is set to {0}, but there is no such file")]
    EnvPathMissing(String),
    /// The file is there but is not a usable ONNX Runtime.
    #[error("cannot load the ONNX Runtime library {path}: {reason}")]
    NotLoadable {
        /// The file.
        path: String,
        /// dlopen's message or what is missing.
        reason: String,
    },
    /// Nothing found and this platform has no provisioning recipe.
    #[error("no ONNX Runtime library found (ORT_DYLIB_PATH, next to the binary, or {0}), and none can be provisioned for this platform: set ORT_DYLIB_PATH to a libonnxruntime of version 1.17 or newer")]
    Unsupported(String),
    /// Provisioning failed.
    #[error("no ONNX Runtime library found, and fetching it failed: {0}")]
    Provision(#[from] ProvisionError),
    /// ort refused it.
    #[error("ONNX Runtime at {path} failed to initialise: {reason}")]
    Init {
        /// The file.
        path: String,
        /// ort's message.
        reason: String,
    },
}

/// The cached library's path: `<cache>/runtime/onnxruntime-<ver>/libonnxruntime.so.<ver>`.
pub fn cached_library_path() -> PathBuf {
    cache_home()
        .join("runtime")
        .join(format!("onnxruntime-{ORT_VERSION}"))
        .join(format!("libonnxruntime.so.{ORT_VERSION}"))
}

/// `ORT_DYLIB_PATH`, when set to something.
pub(crate) fn user_library_path() -> Option<PathBuf> {
    std::env::var_os("ORT_DYLIB_PATH")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// Finds the library without fetching anything.
pub(crate) fn locate() -> Result<Option<PathBuf>, LibraryError> {
    if let Some(path) = user_library_path() {
        if !path.is_file() {
            return Err(LibraryError::EnvPathMissing(path.display().to_string()));
        }
        return Ok(Some(path));
    }
    if let Some(path) = beside_executable() {
        return Ok(Some(path));
    }
    let cached = cached_library_path();
    Ok(cached.is_file().then_some(cached))
}

fn beside_executable() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let plain = dir.join("libonnxruntime.so");
    if plain.is_file() {
        return Some(plain);
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so."))
        })
        .collect();
    versioned.sort();
    versioned.pop()
}

/// Finds the library, provisioning it into the cache when nothing is found.
pub(crate) fn locate_or_provision() -> Result<PathBuf, LibraryError> {
    if let Some(path) = locate()? {
        return Ok(path);
    }
    let dest = cached_library_path();
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(LibraryError::Unsupported(dest.display().to_string()));
    }
    provision_library(&dest)?;
    Ok(dest)
}

fn provision_library(dest: &Path) -> Result<(), ProvisionError> {
    let installed = provision::install(
        &locks_dir().join("runtime"),
        &format!("onnxruntime-{ORT_VERSION}"),
        dest,
        Path::is_file,
        |staging| {
            eprintln!(
                "Fetching ONNX Runtime {ORT_VERSION} (the onnxruntime wheel) from the package index ..."
            );
            let hint = format!(", or set ORT_DYLIB_PATH to an existing libonnxruntime.so (1.17 or newer), or place one at {}", dest.display());
            let wheel = provision::download_wheel(&ORT_WHEEL, staging, &hint)?;
            let staged = staging.join("libonnxruntime.so");
            provision::extract_member(&wheel, &ORT_LIBRARY, &staged)?;
            Ok::<_, ProvisionError>(staged)
        },
    )?;
    if installed == provision::Installed::Now {
        eprintln!("Installed ONNX Runtime into {}", dest.display());
    }
    Ok(())
}

/// Checks that `path` is a loadable ONNX Runtime before `ort` sees it (and
/// leaves it loaded).
pub(crate) fn check_loadable(path: &Path) -> Result<(), LibraryError> {
    let not_loadable = |reason: String| LibraryError::NotLoadable {
        path: path.display().to_string(),
        reason,
    };
    if !path.is_file() {
        return Err(not_loadable("no such file".into()));
    }
    // SAFETY: loading a shared library runs its initialisers; this is the
    // library we are about to use anyway, and we only look up one symbol.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| not_loadable(e.to_string()))?;
    // SAFETY: only the symbol's presence is checked; it is not called.
    let symbol =
        unsafe { lib.get::<unsafe extern "C" fn() -> *const std::ffi::c_void>(b"OrtGetApiBase") };
    if symbol.is_err() {
        return Err(not_loadable(
            "it does not export OrtGetApiBase (not an ONNX Runtime library?)".into(),
        ));
    }
    // A good library stays loaded, so that ort's own dlopen finds it in place
    // instead of mapping and relocating all 20 MB of it a second time.
    std::mem::forget(lib);
    Ok(())
}

/// The process-wide ONNX Runtime, loaded once.
pub(crate) struct Runtime {
    /// ort's environment.
    pub environment: ort::environment::Environment,
    /// Why GPU sessions cannot run on this build, if they cannot: the GPU
    /// build could not be fetched or loaded, or the CPU build was loaded first.
    pub gpu_unusable: Option<String>,
}

/// The process-wide ONNX Runtime environment (whichever build the first
/// call of [`runtime`] loaded).
pub fn environment() -> Result<&'static ort::environment::Environment, String> {
    runtime(false).map(|r| &r.environment)
}

/// The process-wide ONNX Runtime, loaded on the first call. Only one build
/// can be loaded into a process, so the first call decides: with
/// `want_gpu`, the GPU build (fetched into the cache if missing, see
/// [`gpu`](super::gpu)), which runs CPU sessions too; if that is impossible,
/// the CPU build, with the reason in [`Runtime::gpu_unusable`].
/// `ORT_DYLIB_PATH` always wins (the user vouches for it).
pub(crate) fn runtime(want_gpu: bool) -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| init_runtime(want_gpu).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(Clone::clone)
}

fn init_runtime(want_gpu: bool) -> Result<Runtime, LibraryError> {
    let (path, gpu_unusable) = if user_library_path().is_some() {
        (locate_or_provision()?, None)
    } else if want_gpu {
        match super::gpu::prepare() {
            Ok(path) => (path, None),
            Err(e) => (locate_or_provision()?, Some(e.to_string())),
        }
    } else {
        let reason = "the CPU build of ONNX Runtime was loaded first in this process";
        (locate_or_provision()?, Some(reason.to_string()))
    };
    Ok(Runtime {
        environment: init_environment(&path)?,
        gpu_unusable,
    })
}

fn init_environment(path: &Path) -> Result<ort::environment::Environment, LibraryError> {
    check_loadable(path)?;
    let init = |reason: String| LibraryError::Init {
        path: path.display().to_string(),
        reason,
    };
    ort::init_from(path)
        .map_err(|e| init(e.to_string()))?
        .with_name("paddlex")
        .with_telemetry(false)
        .build()
        .map_err(|e| init(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_library_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so");
        std::fs::write(&fake, b"not an ELF file").unwrap();
        let err = check_loadable(&fake).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "cannot load the ONNX Runtime library {}",
                fake.display()
            )),
            "{err}"
        );
        let err = check_loadable(&dir.path().join("none.so"))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("no such file"), "{err}");
    }
}
