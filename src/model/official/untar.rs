//! Extracting an official model archive, trusting nothing in it: only plain
//! files and folders, every path relative and inside the one expected top
//! folder (no absolute paths, no `..`), no links or devices, a size cap per
//! member and in total, and no permissions, owners or times taken from it.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read};
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

/// Size caps for an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The most bytes one member may hold.
    pub member_bytes: u64,
    /// The most bytes all members together may hold.
    pub total_bytes: u64,
}

/// Why an archive was refused.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Not a readable tar archive.
    #[error("not a valid tar archive ({0})")]
    Corrupt(String),
    /// A member ends before its announced size.
    #[error("the archive is cut short in {0}")]
    Truncated(String),
    /// An absolute member path.
    #[error("the archive member {0} has an absolute path; refused")]
    Absolute(String),
    /// A `..` in a member path.
    #[error("the archive member {0} reaches outside its folder (`..`); refused")]
    ParentDir(String),
    /// A link, device, FIFO or anything else that is not a file or folder.
    #[error("the archive member {member} is a {kind}; only files and folders are accepted")]
    Kind {
        /// The member.
        member: String,
        /// What it is.
        kind: String,
    },
    /// A member outside the expected top folder.
    #[error("the archive member {member} is outside {top}/ (the archive must hold exactly one folder, {top}/)")]
    Outside {
        /// The member.
        member: String,
        /// The expected top folder.
        top: String,
    },
    /// The same file twice.
    #[error("the archive holds {0} twice")]
    Duplicate(String),
    /// One member over the cap.
    #[error("the archive member {member} is {size} bytes, over the {limit}-byte limit per file")]
    MemberTooLarge {
        /// The member.
        member: String,
        /// Its size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// All members together over the cap.
    #[error("the archive holds more than {limit} bytes")]
    TotalTooLarge {
        /// The cap.
        limit: u64,
    },
    /// The model files are not all there.
    #[error("the archive holds no complete Paddle model in {top}/ (inference.json or inference.pdmodel, inference.pdiparams and inference.yml)")]
    Incomplete {
        /// The top folder.
        top: String,
    },
    /// Its `inference.yml` cannot be read.
    #[error("{0}")]
    BadConfig(String),
    /// Its `inference.yml` names another model.
    #[error("the archive holds the model {found}")]
    OtherModel {
        /// `Global.model_name` in the archive.
        found: String,
    },
    /// Reading the archive or writing a file failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        error: std::io::Error,
    },
}

/// Extracts `archive` into `into` (created), accepting only members under
/// `top/`; returns `into/top`.
pub(crate) fn extract(
    archive: &Path,
    into: &Path,
    top: &str,
    limits: &Limits,
) -> Result<PathBuf, ArchiveError> {
    let io = |context: String| move |error| ArchiveError::Io { context, error };
    let file = File::open(archive).map_err(io(format!("opening {}", archive.display())))?;
    std::fs::create_dir_all(into).map_err(io(format!("creating {}", into.display())))?;
    let mut tar = tar::Archive::new(file);
    let entries = tar
        .entries()
        .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    let mut total: u64 = 0;
    for entry in entries {
        let mut entry = entry.map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let shown = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let relative = member_path(&shown, &entry, top)?;
        let dest = into.join(&relative);
        if kind == EntryType::Directory {
            std::fs::create_dir_all(&dest).map_err(io(format!("creating {}", dest.display())))?;
            continue;
        }
        if !matches!(kind, EntryType::Regular | EntryType::Continuous) {
            return Err(ArchiveError::Kind {
                member: shown,
                kind: kind_name(kind).into(),
            });
        }
        let size = entry.size();
        if size > limits.member_bytes {
            return Err(ArchiveError::MemberTooLarge {
                member: shown,
                size,
                limit: limits.member_bytes,
            });
        }
        total = total.saturating_add(size);
        if total > limits.total_bytes {
            return Err(ArchiveError::TotalTooLarge {
                limit: limits.total_bytes,
            });
        }
        if relative.components().count() < 2 {
            // A file named like the top folder itself.
            return Err(ArchiveError::Outside {
                member: shown,
                top: top.into(),
            });
        }
        write_member(&mut entry, &dest, &shown, size)?;
    }
    Ok(into.join(top))
}

/// The member's path, checked: relative, no `..`, and under `top/`.
fn member_path<R: Read>(
    shown: &str,
    entry: &tar::Entry<'_, R>,
    top: &str,
) -> Result<PathBuf, ArchiveError> {
    let path = entry
        .path()
        .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    let mut parts = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(ArchiveError::ParentDir(shown.into())),
            Component::RootDir | Component::Prefix(_) => {
                return Err(ArchiveError::Absolute(shown.into()))
            }
        }
    }
    if parts.components().next() != Some(Component::Normal(top.as_ref())) {
        return Err(ArchiveError::Outside {
            member: shown.into(),
            top: top.into(),
        });
    }
    Ok(parts)
}

/// Writes one file member (a new file, default permissions), checking that
/// all `size` bytes are there.
fn write_member<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    dest: &Path,
    shown: &str,
    size: u64,
) -> Result<(), ArchiveError> {
    let io = |context: String| move |error| ArchiveError::Io { context, error };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    let mut out = match OpenOptions::new().write(true).create_new(true).open(dest) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return Err(ArchiveError::Duplicate(shown.into()))
        }
        Err(e) => return Err(io(format!("creating {}", dest.display()))(e)),
    };
    let copied = std::io::copy(&mut entry.take(size), &mut out).map_err(|e| {
        if e.kind() == ErrorKind::UnexpectedEof {
            ArchiveError::Truncated(shown.into())
        } else {
            ArchiveError::Io {
                context: format!("extracting {shown}"),
                error: e,
            }
        }
    })?;
    if copied != size {
        return Err(ArchiveError::Truncated(shown.into()));
    }
    out.sync_all()
        .map_err(io(format!("writing {}", dest.display())))
}

fn kind_name(kind: EntryType) -> &'static str {
    match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "sparse file",
        _ => "special entry",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        member_bytes: 1000,
        total_bytes: 1500,
    };

    fn header(path: &[u8], kind: EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        // Written raw: the builder itself refuses `..` and absolute paths.
        h.as_old_mut().name[..path.len()].copy_from_slice(path);
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    fn archive(members: &[(&[u8], EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in members {
            b.append(&header(path, *kind, data.len() as u64), *data)
                .unwrap();
        }
        b.into_inner().unwrap()
    }

    fn run(bytes: &[u8]) -> (tempfile::TempDir, Result<PathBuf, ArchiveError>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar");
        std::fs::write(&file, bytes).unwrap();
        let out = extract(&file, &dir.path().join("x"), "m_infer", &LIMITS);
        (dir, out)
    }

    #[test]
    fn extracts_files_under_the_top_folder() {
        let tar = archive(&[
            (b"./m_infer/", EntryType::Directory, b""),
            (b"m_infer/inference.yml", EntryType::Regular, b"yml"),
            (b"m_infer/sub/w.bin", EntryType::Regular, b"12345"),
        ]);
        let (_dir, out) = run(&tar);
        let top = out.unwrap();
        assert_eq!(std::fs::read(top.join("inference.yml")).unwrap(), b"yml");
        assert_eq!(std::fs::read(top.join("sub/w.bin")).unwrap(), b"12345");
    }

    #[test]
    fn refuses_unsafe_members() {
        let cases: [(&[u8], EntryType, &str); 7] = [
            (b"m_infer/../evil", EntryType::Regular, "reaches outside"),
            (b"/etc/evil", EntryType::Regular, "absolute path"),
            (b"other_infer/x", EntryType::Regular, "outside m_infer/"),
            (b"m_infer/l", EntryType::Symlink, "symbolic link"),
            (b"m_infer/h", EntryType::Link, "hard link"),
            (b"m_infer/d", EntryType::Char, "character device"),
            (b"m_infer/f", EntryType::Fifo, "FIFO"),
        ];
        for (path, kind, expected) in cases {
            let (dir, out) = run(&archive(&[(path, kind, b"")]));
            let err = out.unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
            assert!(!dir.path().join("evil").exists());
        }
    }

    #[test]
    fn enforces_the_size_caps_from_the_headers() {
        let mut b = tar::Builder::new(Vec::new());
        // The header claims more than the cap; the data is never read.
        b.append(&header(b"m_infer/big", EntryType::Regular, 5000), &b"x"[..])
            .unwrap();
        let (_d, out) = run(&b.into_inner().unwrap());
        let err = out.unwrap_err().to_string();
        assert!(
            err.contains("is 5000 bytes, over the 1000-byte limit"),
            "{err}"
        );

        let tar = archive(&[
            (b"m_infer/a", EntryType::Regular, &[0; 900]),
            (b"m_infer/b", EntryType::Regular, &[0; 900]),
        ]);
        let (_d, out) = run(&tar);
        let err = out.unwrap_err().to_string();
        assert!(err.contains("more than 1500 bytes"), "{err}");
    }

    #[test]
    fn a_cut_or_garbled_archive_is_refused() {
        let tar = archive(&[(b"m_infer/a", EntryType::Regular, &[7; 800])]);
        let (_d, out) = run(&tar[..700]);
        let err = out.unwrap_err().to_string();
        assert!(err.contains("cut short in m_infer/a"), "{err}");

        let mut garbled = tar.clone();
        garbled[10] ^= 0xff;
        let (_d, out) = run(&garbled);
        let err = out.unwrap_err().to_string();
        assert!(err.starts_with("not a valid tar archive"), "{err}");

        let dup = archive(&[
            (b"m_infer/a", EntryType::Regular, b"1"),
            (b"m_infer/a", EntryType::Regular, b"2"),
        ]);
        let (_d, out) = run(&dup);
        assert!(out.unwrap_err().to_string().contains("twice"));
    }
}
