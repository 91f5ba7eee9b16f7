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
    /// A batch run stopped early on SIGINT (Ctrl-C): 128 + 2, as a shell reports it.
    Interrupted,
    /// A batch run stopped early on SIGTERM: 128 + 15.
    Terminated,
}

impl ExitCode {
    /// The numeric status for `std::process::exit`.
    pub(crate) fn code(self) -> i32 {
        match self {
            ExitCode::Success => 0,
            ExitCode::Failure => 1,
            ExitCode::Usage => 2,
            ExitCode::Interrupted => 130,
            ExitCode::Terminated => 143,
        }
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        // The codes are at most 143, always representable as u8.
        std::process::ExitCode::from(code.code() as u8)
    }
}
