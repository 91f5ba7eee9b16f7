//! `paddlex --serve`: PaddleX's serving API for the image_classification
//! pipeline (SPEC §9) on axum + tokio.
//!
//! Requests are validated on the async runtime, decoded and preprocessed on a
//! small thread pool in parallel, then batched by one inference thread that
//! owns the ONNX Runtime session ([`worker`]). A semaphore bounds the
//! requests in flight (503 beyond), bodies are capped (413), URL fetches time
//! out, and SIGINT/SIGTERM stop the server after the requests in flight.

pub mod access_log;
pub mod api;
pub mod classify;
pub mod error;
pub mod handlers;
pub mod options;
pub mod pyjson;
pub mod source;
pub mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{watch, Semaphore};

use self::classify::Service;
use self::handlers::AppState;
use self::options::ServeOptions;
use crate::cli::ServeArgs;
use crate::exit_codes::ExitCode;
use crate::image::preprocess::Preprocessor;
use crate::log;
use crate::postprocess::model_labels;
use crate::postprocess::resolve_k;
use crate::runtime::batch::{BatchRunner, Layout};
use crate::runtime::load::load_sessions;
use crate::setup::{self, Loaded, SetupRequest};

/// Loads the pipeline and serves it until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let options = ServeOptions::from_env();
    let Loaded {
        config,
        model,
        mut plan,
    } = setup::load(&SetupRequest {
        pipeline: &args.pipeline,
        device: args.device.as_deref(),
        use_hpip: args.use_hpip,
        hpi_config: args.hpi_config.as_deref(),
        saving: false,
    })?;
    let module = &config.module;
    let pre = Preprocessor::from_ops(&model.config.transform_ops)?;
    // The intra-op threads are shared out between the sessions.
    plan.threads = (plan.threads / options.sessions).max(1);
    let (sessions, effective) = load_sessions(&model.onnx, &plan, options.sessions)?;
    log::info(&setup::inference_line(&effective));
    let labels = model_labels(model.config.label_list.clone(), sessions.first());
    let runner = BatchRunner::new(
        module.batch_size,
        Layout::planar(pre.chw),
        pre.fixed_size().is_some(),
    );
    let (queue, inference) = worker::start(sessions, &runner, options.max_pending)
        .context("cannot start the inference threads")?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.decode_threads)
        .thread_name(|i| format!("decode-{i}"))
        .build()
        .context("cannot start the decode threads")?;
    let http = source::http_client(options.fetch_timeout).map_err(anyhow::Error::msg)?;
    let service = Service {
        pre,
        labels,
        default_k: resolve_k(None, module.topk, model.config.topk),
        default_visualize: config.serving_visualize,
        queue,
        pool,
        http,
        max_fetch_bytes: options.max_body_bytes,
    };
    let state = AppState {
        service: Arc::new(service),
        permits: Arc::new(Semaphore::new(options.max_pending)),
        max_body_bytes: options.max_body_bytes,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.io_threads.max(1))
        .thread_name("http")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(serve(args, state, &options));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    // Every queue handle is gone with the runtime: the inference threads drain and end.
    for handle in inference {
        let _ = handle.join();
    }
    served?;
    eprintln!("INFO:     Finished server process [{}]", std::process::id());
    Ok(ExitCode::Success)
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/image-classification", post(handlers::infer))
        .route("/health", get(handlers::health))
        .route("/openapi.json", get(handlers::openapi))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(axum::middleware::from_fn(access_log::log_requests))
        .with_state(state)
}

async fn serve(args: &ServeArgs, state: AppState, options: &ServeOptions) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr()?;
    eprintln!("INFO:     Started server process [{}]", std::process::id());
    eprintln!("INFO:     Application startup complete.");
    eprintln!(
        "INFO:     paddlex-rs running on http://{} (Press CTRL+C to quit)",
        display_addr(addr)
    );
    let (stop_tx, mut stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        eprintln!("INFO:     Shutting down");
        let _ = stop_tx.send(true);
    });
    let mut graceful_rx = stop_rx.clone();
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = graceful_rx.wait_for(|stop| *stop).await;
    });
    let mut server = tokio::spawn(async move { server.await });
    let grace = options.shutdown_grace;
    tokio::select! {
        done = &mut server => done.context("the server task failed")?.context("the server failed")?,
        () = async {
            let _ = stop_rx.wait_for(|stop| *stop).await;
            tokio::time::sleep(grace).await;
        } => {
            log::warn(&format!("requests still in flight after {}s; stopping anyway", grace.as_secs()));
            server.abort();
        }
    }
    Ok(())
}

/// `host:port`, with IPv6 hosts in brackets.
fn display_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.to_string(),
        SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
