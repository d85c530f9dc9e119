//! A Flowtriq webhook receiver on warp (DESIGN §4).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example warp_receiver
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use flowtriq_webhook::VerifiedEvent;
use flowtriq_webhook_examples::{ReceiverConfig, echo, init_tracing};
use warp::Filter;

/// Answers a verified event with its summary, after the configured delay.
async fn webhook(delay: Duration, event: VerifiedEvent) -> warp::reply::Json {
    tokio::time::sleep(delay).await;
    warp::reply::json(&echo(&event))
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let (config, receiver) = match ReceiverConfig::load("warp_receiver").await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };

    let delay = config.handler_delay;
    // `handle` answers rejections (401/400/413), duplicates, 409 and 503 itself and runs the
    // handler for the rest; 404 and 405 stay warp's.
    let routes = warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(flowtriq_webhook_warp::handle(receiver, move |event| {
            webhook(delay, event)
        }));

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("warp_receiver: cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("warp_receiver: {error}");
            return ExitCode::FAILURE;
        }
    }
    serve(listener, routes).await;
    ExitCode::SUCCESS
}

/// Serves `routes` with timeouts, which `warp::serve` does not offer: a client trickling its
/// request head or body cannot hold a connection for ever (Flowtriq itself gives up after
/// 10 s). The service runs under tower's `timeout`, whose error makes hyper close the
/// connection; hyper bounds the time to read the request head.
async fn serve<F>(listener: tokio::net::TcpListener, routes: F)
where
    F: Filter + Clone + Send + Sync + 'static,
    F::Extract: warp::Reply,
{
    let service = tower::ServiceBuilder::new()
        .timeout(Duration::from_secs(15))
        .service(warp::service(routes));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                tracing::warn!("accept failed: {error}");
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
        });
    }
}
