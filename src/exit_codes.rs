//! The process exit codes, in one place (PaddleX's meanings).

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything asked for was done (also when the input held no images).
    Success,
    /// A runtime failure: a model, the runtime, or at least one input failed.
    Failure,
    /// The command line was wrong (argparse's code in PaddleX).
    Usage,
}

impl ExitCode {
    /// The numeric status for `std::process::exit`.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Usage => 2,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        // The codes are 0..=2, always representable as u8.
        std::process::ExitCode::from(code.code() as u8)
    }
}
