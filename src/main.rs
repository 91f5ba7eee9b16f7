//! The `paddlex` binary: all the work is in the library.

fn main() -> std::process::ExitCode {
    paddlex::app::run(std::env::args_os().collect()).into()
}
