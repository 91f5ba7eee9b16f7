//! `paddlex --serve --pipeline image_classification [--host H] [--port P]`:
//! set the pipeline up as every command does, then hand it to the server.

use crate::cli::ServeArgs;
use crate::exit_codes::ExitCode;
use crate::serve::options::ServeOptions;
use crate::serve::{self, Address};
use crate::setup::{self, SetupOptions, SetupRequest};

/// Serves until SIGINT or SIGTERM.
pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // A bad PADDLEX_RS_SERVE_* value fails before the model is loaded.
    let options = ServeOptions::from_env()?;
    let loaded = setup::load(&SetupRequest {
        pipeline: &args.pipeline,
        options: SetupOptions {
            device: args.device.as_deref(),
            use_hpip: args.use_hpip,
            hpi_config: args.hpi_config.as_deref(),
            saving: false,
        },
    })?;
    let address = Address {
        host: args.host.clone(),
        port: args.port,
    };
    serve::run(loaded, &options, &address)?;
    Ok(ExitCode::Success)
}
