//! Stopping a batch run early on SIGINT (Ctrl-C) or SIGTERM.
//!
//! [`Stop::on_signals`] replaces the default "die at once" action of both
//! signals with a flag: the pipeline stops taking inputs, the results in
//! flight are finished (saved through temporary files renamed into place, so
//! nothing half-written is left), the summary is printed and the process
//! exits 130 (SIGINT) or 143 (SIGTERM), the shell's codes for a process
//! killed by those signals. A second signal ends the process at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};

use crate::exit_codes::ExitCode;
use crate::log;

/// Why a run was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl StopReason {
    /// The signal's name.
    pub(crate) fn signal_name(self) -> &'static str {
        match self {
            StopReason::Interrupt => "SIGINT",
            StopReason::Terminate => "SIGTERM",
        }
    }

    /// The exit code a shell reports for a process ended by this signal.
    pub(crate) fn exit_code(self) -> ExitCode {
        match self {
            StopReason::Interrupt => ExitCode::Interrupted,
            StopReason::Terminate => ExitCode::Terminated,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            StopReason::Interrupt => 1,
            StopReason::Terminate => 2,
        }
    }

    fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(StopReason::Interrupt),
            2 => Some(StopReason::Terminate),
            _ => None,
        }
    }
}

/// A request to stop, shared between threads; the first reason is kept.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicU8>);

impl Stop {
    /// A flag that only [`Stop::request`] sets.
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag set by SIGINT or SIGTERM from now on: when this returns, a
    /// listener thread watches for them. If it cannot, the signals keep their
    /// default action, with a warning.
    pub(crate) fn on_signals() -> Self {
        let stop = Stop::new();
        let listener = stop.clone();
        let (ready_tx, ready_rx) = mpsc::channel();
        let spawned =
            std::thread::Builder::new()
                .name("signals".into())
                .spawn(move || match watch() {
                    Ok((runtime, signals)) => {
                        let _ = ready_tx.send(Ok(()));
                        runtime.block_on(listener.listen(signals));
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                });
        let watching = spawned.and_then(|_| {
            ready_rx
                .recv()
                .unwrap_or_else(|_| Err(std::io::Error::other("the listener ended")))
        });
        if let Err(e) = watching {
            log::warn(&format!(
                "cannot watch for Ctrl-C ({e}); it ends the run at once"
            ));
        }
        stop
    }

    /// Asks to stop for `reason`; a reason already recorded is kept.
    pub(crate) fn request(&self, reason: StopReason) {
        let _ = self
            .0
            .compare_exchange(0, reason.to_u8(), Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Why a stop was asked for, if it was.
    pub(crate) fn requested(&self) -> Option<StopReason> {
        StopReason::from_u8(self.0.load(Ordering::SeqCst))
    }

    /// The first signal sets the flag, the second ends the process.
    async fn listen(self, mut signals: Signals) {
        let first = signals.next().await;
        self.request(first);
        let second = signals.next().await;
        std::process::exit(second.exit_code().code());
    }
}

/// A small runtime of its own with both signals registered on it.
fn watch() -> std::io::Result<(tokio::runtime::Runtime, Signals)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let signals = {
        let _context = runtime.enter();
        Signals::new()?
    };
    Ok((runtime, signals))
}

/// The two signals as one stream.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> std::io::Result<Self> {
        Ok(Signals {})
    }

    #[cfg(unix)]
    async fn next(&mut self) -> StopReason {
        tokio::select! {
            _ = self.interrupt.recv() => StopReason::Interrupt,
            _ = self.terminate.recv() => StopReason::Terminate,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> StopReason {
        match tokio::signal::ctrl_c().await {
            Ok(()) => StopReason::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept() {
        let stop = Stop::new();
        assert_eq!(stop.requested(), None);
        stop.clone().request(StopReason::Terminate);
        stop.request(StopReason::Interrupt);
        assert_eq!(stop.requested(), Some(StopReason::Terminate));
        assert_eq!(StopReason::Terminate.exit_code().code(), 143);
        assert_eq!(StopReason::Interrupt.exit_code().code(), 130);
    }
}
