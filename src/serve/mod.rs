//! `paddlex --serve`: PaddleX's serving API for the image_classification
//! pipeline (SPEC §9) on axum + tokio.
//!
//! Request headers and bodies are read under time limits (`listener`,
//! `body`), bodies before a request takes one of the admission slots that
//! bound the requests in flight (503 beyond) and within a memory budget for
//! bodies. Requests are then parsed, decoded and preprocessed on a small
//! thread pool, each image first checked against the serving pixel cap and
//! given its share of the decode memory budget (`pixels`, `budget`),
//! then batched by the inference threads, each owning an ONNX Runtime
//! session ([`worker`]). URL images follow the URL policy (`url_policy`);
//! SIGINT/SIGTERM stop the server after the requests in flight.

pub(crate) mod access_log;
pub(crate) mod api;
pub(crate) mod body;
pub(crate) mod budget;
pub(crate) mod classify;
pub(crate) mod error;
#[cfg(test)]
mod fuzz_tests;
pub(crate) mod handlers;
pub(crate) mod listener;
pub(crate) mod options;
pub(crate) mod pixels;
pub(crate) mod pyjson;
pub(crate) mod source;
pub(crate) mod url_policy;
pub(crate) mod worker;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{watch, Semaphore};

use self::access_log::AccessLog;
use self::body::BodyLimits;
use self::budget::MemoryBudget;
use self::classify::Service;
use self::handlers::AppState;
use self::options::ServeOptions;
use crate::imaging::preprocess::Preprocessor;
use crate::log;
use crate::postprocess::model_labels;
use crate::postprocess::resolve_k;
use crate::runtime::batch::{BatchRunner, Layout};
use crate::runtime::load::load_sessions;
use crate::setup::{self, Loaded};

/// Where to listen.
#[derive(Debug, Clone)]
pub(crate) struct Address {
    /// `--host`.
    pub host: String,
    /// `--port`.
    pub port: u16,
}

/// Loads the sessions of a set-up pipeline and serves it on `address` until
/// SIGINT or SIGTERM.
pub(crate) fn run(loaded: Loaded, options: &ServeOptions, address: &Address) -> anyhow::Result<()> {
    let Loaded {
        config,
        model,
        mut plan,
    } = loaded;
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
    let fetcher = source::Fetcher::new(
        options.url_inputs,
        options.fetch_timeout,
        options.max_body_bytes,
    )
    .map_err(anyhow::Error::msg)?;
    let body_budget = MemoryBudget::new(options.body_budget_bytes);
    let service = Service {
        pre,
        labels,
        default_k: resolve_k(None, module.topk, model.config.topk),
        default_visualize: config.serving_visualize,
        queue,
        pool,
        fetcher,
        max_image_pixels: options.max_image_pixels,
        decode_budget: MemoryBudget::new(options.decode_budget_bytes),
        body_budget: body_budget.clone(),
    };
    let state = AppState {
        service: Arc::new(service),
        permits: Arc::new(Semaphore::new(options.max_pending)),
        body: BodyLimits {
            max_bytes: options.max_body_bytes,
            timeout: options.body_timeout,
            budget: body_budget,
        },
    };
    let (access_log, log_writer) =
        AccessLog::start().context("cannot start the access log thread")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.io_threads.max(1))
        .thread_name("http")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(serve(address, router(state, access_log), options));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    // Every queue handle is gone with the runtime: the inference threads drain and end,
    // and the access log writer writes what is left.
    for handle in inference {
        let _ = handle.join();
    }
    let _ = log_writer.join();
    served?;
    eprintln!("INFO:     Finished server process [{}]", std::process::id());
    Ok(())
}

/// The routes, with the access log.
pub(crate) fn router(state: AppState, access_log: AccessLog) -> Router {
    Router::new()
        .route("/image-classification", post(handlers::infer))
        .route("/health", get(handlers::health))
        .route("/openapi.json", get(handlers::openapi))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            access_log,
            access_log::log_requests,
        ))
        .with_state(state)
}

async fn serve(address: &Address, app: Router, options: &ServeOptions) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind((address.host.as_str(), address.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", address.host, address.port))?;
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
    let server = listener::serve(listener, app, options.header_timeout, stop_rx.clone());
    let mut server = tokio::spawn(server);
    let grace = options.shutdown_grace;
    tokio::select! {
        done = &mut server => done.context("the server task failed")?,
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
