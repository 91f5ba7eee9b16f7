//! The converter's errors: what went wrong ([`ErrorKind`]) and in which file
//! ([`Error`]).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::onnx::{GraphError, WriteError};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The program file is not a Paddle inference program, or is damaged.
    #[error("{0}")]
    Program(String),
    /// The parameters file does not hold what the program declares.
    #[error("{0}")]
    Params(String),
    /// An operator, or an attribute value of one, this converter does not
    /// translate. Never converted approximately.
    #[error("{0}")]
    Unsupported(String),
    /// The ONNX graph came out inconsistent (a converter bug).
    #[error(transparent)]
    Graph(#[from] GraphError),
}

impl From<WriteError> for ErrorKind {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Graph(g) => ErrorKind::Graph(g),
            WriteError::Io(io) => ErrorKind::Io(io),
        }
    }
}

/// A conversion error, naming the file it concerns where there is one.
#[derive(Debug)]
pub struct Error {
    /// The file (program, parameters, or the ONNX model being written).
    pub file: Option<PathBuf>,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// `kind`, in `file`.
    pub fn in_file(file: &Path, kind: impl Into<ErrorKind>) -> Self {
        Error {
            file: Some(file.to_path_buf()),
            kind: kind.into(),
        }
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error { file: None, kind }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}: {}", file.display(), self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// Shorthand for an unsupported-operator error.
pub(crate) fn unsupported(op: &str, what: impl fmt::Display) -> ErrorKind {
    ErrorKind::Unsupported(format!("operator `{op}`: {what}"))
}
