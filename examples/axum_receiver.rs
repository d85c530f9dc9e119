//! A Flowtriq webhook receiver on axum (DESIGN §4).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example axum_receiver
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use axum::{Json, Router, extract::State, routing::post};
use flowtriq_webhook_examples::{ReceiverConfig, bind, echo, init_tracing, serve};
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use serde_json::Value;

/// Answers a verified event with its summary, after the configured delay.
async fn webhook(
    State(delay): State<Duration>,
    FlowtriqEvent(event): FlowtriqEvent,
) -> Json<Value> {
    // tokio rounds even a zero sleep up to its timer's next millisecond tick: skip it when unset.
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Json(echo(&event))
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let (config, receiver) = match ReceiverConfig::load("axum_receiver").await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };

    let app = Router::new()
        .route("/webhook", post(webhook))
        .route_layer(VerifyWebhookLayer::from_receiver(receiver))
        .with_state(config.handler_delay);

    let listener = match bind("axum_receiver", config.listen).await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    // Instead of `axum::serve`, which sets no timeouts: the shared `serve` bounds the request
    // head and the whole request, so a client trickling either cannot hold a connection.
    serve(listener, app).await;
    ExitCode::SUCCESS
}
