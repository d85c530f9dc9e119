//! A Flowtriq webhook receiver on warp (DESIGN §4).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example warp_receiver
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use flowtriq_webhook::VerifiedEvent;
use flowtriq_webhook_examples::{ReceiverConfig, bind, echo, init_tracing, serve};
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

    let listener = match bind("warp_receiver", config.listen).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    // `warp::serve` sets no timeouts; the shared `serve` bounds the request head and the
    // whole request, so a client trickling either cannot hold a connection for ever.
    serve(listener, warp::service(routes)).await;
    ExitCode::SUCCESS
}
