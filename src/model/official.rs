//! PaddleX's official inference models, fetched by name as PaddleX 3.3 fetches
//! them: `<name>_infer.tar` from PaddleX's model host (Paddle format, converted
//! to ONNX on first use by [`super::paddle`]), or from the mirror named by
//! `PADDLEX_RS_MODEL_MIRROR`.
//!
//! The archive is downloaded with the binary's own HTTP client (no Python),
//! extracted with strict checks ([`untar`]) into a staging folder beside the
//! cache and renamed into `<cache>/official_models/<name>/` under the
//! model's lock file, so a failed, refused or cut transfer leaves nothing
//! under the final name and two processes never fetch the same model twice.

mod download;
mod untar;

use std::path::{Path, PathBuf};

use super::infer_config::InferenceConfig;
use super::registry;
use crate::cache::locks_dir;
use crate::log;
use crate::provision::{self, ProvisionError};

pub(crate) use download::TransferError;
pub(crate) use untar::{ArchiveError, Limits};

/// Where PaddleX 3.3 keeps the inference models of its ImageNet classifiers
/// (its BOS bucket); `<name>_infer.tar` below it.
pub(crate) const BOS_BASE_URL: &str =
    "https://paddle-model-ecology.bj.bcebos.com/paddlex/official_inference_model/paddle3.0.0";

/// A base URL or a local folder holding `<name>_infer.tar` files, used
/// instead of the public hosts.
pub(crate) const MIRROR_ENV: &str = "PADDLEX_RS_MODEL_MIRROR";

/// PaddleX's choice of model host (`huggingface`, the default, `aistudio`,
/// `modelscope` or `bos`): tried first, the others after it.
pub(crate) const SOURCE_ENV: &str = "PADDLE_PDX_MODEL_SOURCE";

/// How large an official archive may be: the largest classifier
/// (`CLIP_vit_large_patch14_224`) is about 1.1 GB.
pub(crate) const LIMITS: Limits = Limits {
    member_bytes: 2 << 30,
    total_bytes: 3 << 30,
};

/// The archive PaddleX publishes for `name`.
pub(crate) fn archive_name(name: &str) -> String {
    format!("{name}_infer.tar")
}

/// Whether `name` is one of PaddleX's official models that this module
/// fetches (the 80 ImageNet classifiers).
pub(crate) fn is_official(name: &str) -> bool {
    registry::imagenet_model(name).is_some()
}

/// One of PaddleX 3.3's model hosts, in its default order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hoster {
    /// Hugging Face (`PaddlePaddle/<name>` repositories).
    HuggingFace,
    /// Baidu AI Studio.
    AiStudio,
    /// ModelScope.
    ModelScope,
    /// PaddleX's BOS bucket ([`BOS_BASE_URL`]).
    Bos,
}

impl Hoster {
    /// PaddleX's order when `PADDLE_PDX_MODEL_SOURCE` names none of them.
    pub(crate) const ALL: [Hoster; 4] = [
        Hoster::HuggingFace,
        Hoster::AiStudio,
        Hoster::ModelScope,
        Hoster::Bos,
    ];

    /// The name `PADDLE_PDX_MODEL_SOURCE` uses for it.
    pub(crate) fn alias(self) -> &'static str {
        match self {
            Hoster::HuggingFace => "huggingface",
            Hoster::AiStudio => "aistudio",
            Hoster::ModelScope => "modelscope",
            Hoster::Bos => "bos",
        }
    }

    /// The hosts in the order they are tried: the one `source` names
    /// (case-insensitive) first, then the others in PaddleX's order. A value
    /// naming none of them changes nothing, as in PaddleX.
    pub(crate) fn ordered(source: Option<&str>) -> Vec<Hoster> {
        let wanted = source.map(str::to_ascii_lowercase);
        let mut hosts = Hoster::ALL.to_vec();
        if let Some(i) = hosts
            .iter()
            .position(|h| Some(h.alias()) == wanted.as_deref())
        {
            let first = hosts.remove(i);
            hosts.insert(0, first);
        }
        hosts
    }

    /// The archive's URL when this host carries `name`. PaddleX 3.3 serves its
    /// ImageNet classifiers from BOS only: Hugging Face, AI Studio and
    /// ModelScope carry its OCR and document models, none of which this build
    /// fetches by name.
    pub(crate) fn archive_url(self, name: &str) -> Option<String> {
        (self == Hoster::Bos && is_official(name))
            .then(|| format!("{BOS_BASE_URL}/{}", archive_name(name)))
    }
}

/// `PADDLEX_RS_MODEL_MIRROR`: where archives come from instead of the public hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mirror {
    /// A base URL (`http://` or `https://`), without a trailing slash.
    Url(String),
    /// A local folder (a plain path or a `file://` URL).
    Folder(PathBuf),
}

impl Mirror {
    /// The mirror set in the environment, if any.
    pub(crate) fn from_env() -> Option<Mirror> {
        std::env::var(MIRROR_ENV)
            .ok()
            .and_then(|v| Mirror::parse(&v))
    }

    /// Reads a mirror setting; `None` when empty.
    pub(crate) fn parse(value: &str) -> Option<Mirror> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Some(Mirror::Url(value.trim_end_matches('/').to_string()));
        }
        let path = value.strip_prefix("file://").unwrap_or(value);
        Some(Mirror::Folder(PathBuf::from(path)))
    }

    /// Where the mirror keeps `name`'s archive.
    pub(crate) fn location(&self, name: &str) -> Location {
        match self {
            Mirror::Url(base) => Location::Url {
                url: format!("{base}/{}", archive_name(name)),
                host: "mirror",
            },
            Mirror::Folder(dir) => Location::File(dir.join(archive_name(name))),
        }
    }

    /// The setting as shown to the user.
    pub(crate) fn describe(&self) -> String {
        match self {
            Mirror::Url(base) => base.clone(),
            Mirror::Folder(dir) => dir.display().to_string(),
        }
    }
}

/// One place an archive can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// Downloaded over HTTP(S).
    Url {
        /// The archive's URL.
        url: String,
        /// The host's name in messages (`bos`, `mirror`, ...).
        host: &'static str,
    },
    /// Read from a local file.
    File(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Url { url, .. } => f.write_str(url),
            Location::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The places `name` is fetched from, in order: the mirror alone when one is
/// set, else the public hosts that carry it.
pub(crate) fn locations(
    name: &str,
    mirror: Option<&Mirror>,
    source: Option<&str>,
) -> Vec<Location> {
    if let Some(mirror) = mirror {
        return vec![mirror.location(name)];
    }
    Hoster::ordered(source)
        .into_iter()
        .filter_map(|host| {
            host.archive_url(name).map(|url| Location::Url {
                url,
                host: host.alias(),
            })
        })
        .collect()
}

/// Why an official model could not be fetched: one line that names the model,
/// where it was fetched from, and the ways out.
#[derive(Debug, thiserror::Error)]
#[error("Cannot fetch the official model {name} from {from}: {reason}. Nothing was saved in the cache. Set {MIRROR_ENV} to a URL or folder holding {archive}, or set SubModules.ImageClassification.model_dir to a local model directory.", archive = archive_name(name))]
pub struct FetchError {
    /// The model name.
    pub name: String,
    /// The URL or file tried last.
    pub from: String,
    /// What went wrong.
    pub reason: Reason,
}

/// What went wrong while fetching an archive.
#[derive(Debug, thiserror::Error)]
pub enum Reason {
    /// The download failed.
    #[error("{0}")]
    Transfer(TransferError),
    /// The archive was refused.
    #[error("{0}")]
    Archive(ArchiveError),
    /// The mirror folder lacks the archive.
    #[error("no such file")]
    NoFile,
    /// Locking, staging or renaming in the cache failed.
    #[error("{0}")]
    Cache(ProvisionError),
    /// No host carries the model (not one of the official names).
    #[error("no model host carries it")]
    NoHost,
}

impl From<TransferError> for Reason {
    fn from(e: TransferError) -> Self {
        Reason::Transfer(e)
    }
}

impl From<ArchiveError> for Reason {
    fn from(e: ArchiveError) -> Self {
        Reason::Archive(e)
    }
}

impl From<ProvisionError> for Reason {
    fn from(e: ProvisionError) -> Self {
        Reason::Cache(e)
    }
}

/// Fetches `name` into `dest` (`<cache>/official_models/<name>`) from the
/// mirror or the public hosts set in the environment.
pub(crate) fn fetch(name: &str, dest: &Path) -> Result<(), FetchError> {
    let mirror = Mirror::from_env();
    let source = std::env::var(SOURCE_ENV).ok();
    let places = locations(name, mirror.as_ref(), source.as_deref());
    fetch_from(name, dest, &places, &locks_dir().join("official_models"))
}

/// Fetches `name` into `dest` from the first of `places` that works, under
/// the lock `<locks>/<name>.lock`; a model another process put there while
/// this one waited for the lock is kept as it is.
pub(crate) fn fetch_from(
    name: &str,
    dest: &Path,
    places: &[Location],
    locks: &Path,
) -> Result<(), FetchError> {
    let fail = |from: String, reason: Reason| FetchError {
        name: name.into(),
        from,
        reason,
    };
    let first = places
        .first()
        .map_or_else(|| "any model host".to_string(), ToString::to_string);
    if places.is_empty() {
        return Err(fail(first, Reason::NoHost));
    }
    let installed = provision::install(locks, name, dest, Path::exists, |staging| {
        let mut last = None;
        for (i, place) in places.iter().enumerate() {
            let attempt = staging.join(i.to_string());
            let reason = match fetch_one(name, place, &attempt) {
                Ok(model) => return Ok(model),
                Err(reason) => reason,
            };
            // What a failed attempt left goes now, not at the end.
            let _ = std::fs::remove_dir_all(&attempt);
            if let Some(next) = places.get(i + 1) {
                log::warn(&format!(
                    "Encountering exception when download model from {}: {reason}, will try to download from other model sources: `{}`.",
                    host_of(place),
                    host_of(next)
                ));
            }
            last = Some(fail(place.to_string(), reason));
        }
        Err(Attempt::Fetch(
            last.unwrap_or_else(|| fail(first.clone(), Reason::NoHost)),
        ))
    });
    match installed {
        Ok(_) => Ok(()),
        Err(Attempt::Fetch(e)) => Err(e),
        Err(Attempt::Cache(e)) => Err(fail(first, e.into())),
    }
}

/// How an install under the lock failed: the cache (lock, staging, rename),
/// or every place.
enum Attempt {
    Cache(ProvisionError),
    Fetch(FetchError),
}

impl From<ProvisionError> for Attempt {
    fn from(e: ProvisionError) -> Self {
        Attempt::Cache(e)
    }
}

fn host_of(place: &Location) -> &str {
    match place {
        Location::Url { host, .. } => host,
        Location::File(_) => "mirror",
    }
}

/// Downloads (or opens) the archive at `place` and extracts it into
/// `work`; returns the checked model folder inside it.
fn fetch_one(name: &str, place: &Location, work: &Path) -> Result<PathBuf, Reason> {
    std::fs::create_dir_all(work).map_err(|e| {
        Reason::Cache(ProvisionError::Io {
            context: format!("creating {}", work.display()),
            message: e.to_string(),
        })
    })?;
    let archive = match place {
        Location::Url { url, .. } => {
            let file = work.join(archive_name(name));
            download::download(url, &file, LIMITS.total_bytes)?;
            eprintln!("Extracting {}", archive_name(name));
            file
        }
        Location::File(path) => {
            if !path.is_file() {
                return Err(Reason::NoFile);
            }
            eprintln!("Extracting {}", path.display());
            path.clone()
        }
    };
    let top = format!("{name}_infer");
    let model = untar::extract(&archive, &work.join("extract"), &top, &LIMITS)?;
    check_model(name, &model)?;
    Ok(model)
}

/// The extracted folder must hold a Paddle model of `name`.
fn check_model(name: &str, dir: &Path) -> Result<(), ArchiveError> {
    let top = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let complete = paddle2onnx::ModelFiles::find(dir).is_some()
        && dir.join("inference.pdiparams").is_file()
        && dir.join("inference.yml").is_file();
    if !complete {
        return Err(ArchiveError::Incomplete { top });
    }
    let config = InferenceConfig::load(&dir.join("inference.yml"))
        .map_err(|e| ArchiveError::BadConfig(e.to_string()))?;
    match config.model_name {
        Some(found) if found != name => Err(ArchiveError::OtherModel { found }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifiers_come_from_bos_whatever_the_source() {
        let bos = format!("{BOS_BASE_URL}/ResNet50_infer.tar");
        for source in [None, Some("huggingface"), Some("ModelScope"), Some("bos")] {
            let places = locations("ResNet50", None, source);
            assert_eq!(
                places,
                [Location::Url {
                    url: bos.clone(),
                    host: "bos"
                }]
            );
        }
        assert!(locations("EfficientNet-Lite0", None, None).is_empty());
        assert!(locations("nope", None, None).is_empty());
    }

    #[test]
    fn the_named_source_goes_first() {
        use Hoster::*;
        assert_eq!(
            Hoster::ordered(None),
            [HuggingFace, AiStudio, ModelScope, Bos]
        );
        assert_eq!(
            Hoster::ordered(Some("BOS")),
            [Bos, HuggingFace, AiStudio, ModelScope]
        );
        assert_eq!(
            Hoster::ordered(Some("modelscope")),
            [ModelScope, HuggingFace, AiStudio, Bos]
        );
        assert_eq!(Hoster::ordered(Some("elsewhere")), Hoster::ALL);
    }

    #[test]
    fn a_mirror_replaces_the_public_hosts() {
        let url = Mirror::parse("http://127.0.0.1:8000/models/").unwrap();
        assert_eq!(
            locations("PP-LCNet_x0_5", Some(&url), Some("bos")),
            [Location::Url {
                url: "http://127.0.0.1:8000/models/PP-LCNet_x0_5_infer.tar".into(),
                host: "mirror"
            }]
        );
        let folder = Mirror::parse("file:///srv/models").unwrap();
        assert_eq!(
            folder.location("ResNet50"),
            Location::File("/srv/models/ResNet50_infer.tar".into())
        );
        assert_eq!(
            Mirror::parse("models"),
            Some(Mirror::Folder("models".into()))
        );
        assert_eq!(Mirror::parse("  "), None);
    }

    #[test]
    fn a_failure_names_the_model_the_place_and_the_ways_out() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("official_models/ResNet50");
        let missing = Location::File(dir.path().join("mirror/ResNet50_infer.tar"));
        let err = fetch_from("ResNet50", &dest, &[missing], &dir.path().join("locks"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Cannot fetch the official model ResNet50 from "));
        assert!(
            err.contains("mirror/ResNet50_infer.tar: no such file"),
            "{err}"
        );
        assert!(err.contains("PADDLEX_RS_MODEL_MIRROR"), "{err}");
        assert!(err.contains("model_dir"), "{err}");
        assert!(!err.contains('\n'));
        assert!(!dest.exists());
        let left: Vec<_> = std::fs::read_dir(dir.path().join("official_models"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
