//! A Flowtriq webhook receiver on warp (DESIGN §4).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example warp_receiver
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use flowtriq_webhook::VerifiedEvent;
use flowtriq_webhook_examples::{ReceiverConfig, echo};
use warp::Filter;

/// Answers a verified event with its summary, after the configured delay.
async fn webhook(delay: Duration, event: VerifiedEvent) -> warp::reply::Json {
    // tokio rounds even a zero sleep up to its timer's next millisecond tick: skip it when unset.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    warp::reply::json(&echo(&event))
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match ReceiverConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("warp_receiver: {error}");
            return ExitCode::from(2);
        }
    };
    let receiver = match config.receiver().await {
        Ok(receiver) => receiver,
        Err(error) => {
            eprintln!("warp_receiver: {error}");
            return ExitCode::from(2);
        }
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

    // warp 0.4 has no request or read timeout, so a client trickling its body can hold a
    // connection open (Flowtriq itself gives up after 10 s). To bound it, serve
    // `warp::service(routes)` with hyper-util's connection builder instead of `warp::serve`:
    // `http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(..)` for the head,
    // and tower-http's `TimeoutLayer` around the service for the whole request, body included.
    // A reverse proxy with client timeouts in front of the receiver does the same.
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
    warp::serve(routes).incoming(listener).run().await;
    ExitCode::SUCCESS
}
