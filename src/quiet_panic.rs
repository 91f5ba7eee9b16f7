//! Running code that may panic on a hostile input (a third-party decoder or
//! renderer, or a bug of ours) with the panic turned into an error message
//! that is printed nowhere: the caller reports it as that input's one-line
//! error. Panics elsewhere keep the default report.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs inside [`catch_quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// The message of the last quiet panic on this thread.
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs, once, a panic hook that keeps quiet panics' messages instead
/// of printing them, and hands every other panic to the previous hook.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let text = payload_text(info.payload()).to_string();
                MESSAGE.with(|m| *m.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a panic inside it (on this thread) becomes `Err` with the
/// panic's message, and nothing is printed.
///
/// Whatever `f` was changing when it panicked is dropped or left as it was:
/// callers only pass code whose shared state survives that (read-only
/// inputs, buffers that are thrown away).
pub(crate) fn catch_quietly<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let was_quiet = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was_quiet));
    result.map_err(|payload| {
        MESSAGE
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| payload_text(&*payload).to_string())
    })
}

/// The text of a panic's payload (`panic!` with a literal or a format).
pub(crate) fn payload_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message() {
        assert_eq!(catch_quietly(|| 7), Ok(7));
        let err = catch_quietly(|| -> u8 { panic!("bad {}", "input") }).unwrap_err();
        assert_eq!(err, "bad input");
        let empty: Vec<u8> = Vec::new();
        let err = catch_quietly(|| empty.iter().max().copied().expect("no maximum")).unwrap_err();
        assert_eq!(err, "no maximum");
        // Nested: the inner one is caught, the outer goes on.
        let outer = catch_quietly(|| catch_quietly(|| panic!("inner")).unwrap_err());
        assert_eq!(outer.unwrap(), "inner");
        assert!(!QUIET.with(Cell::get), "quiet only inside");
    }
}
