//! A Flowtriq webhook receiver on axum (DESIGN §4).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example axum_receiver
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use flowtriq_webhook_examples::{ReceiverConfig, echo};
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use serde_json::Value;
use tower_http::timeout::TimeoutLayer;

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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let config = match ReceiverConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("axum_receiver: {error}");
            return ExitCode::from(2);
        }
    };
    let receiver = match config.receiver().await {
        Ok(receiver) => receiver,
        Err(error) => {
            eprintln!("axum_receiver: {error}");
            return ExitCode::from(2);
        }
    };

    let app = Router::new()
        .route("/webhook", post(webhook))
        .route_layer(VerifyWebhookLayer::from_receiver(receiver))
        // Bounds the whole request, body included, so a client trickling its body cannot
        // hold a connection forever. Flowtriq itself gives up after 10 s.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(15),
        ))
        .with_state(config.handler_delay);

    let listener = match tokio::net::TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("axum_receiver: cannot listen on {}: {error}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("axum_receiver: {error}");
            return ExitCode::FAILURE;
        }
    }
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("axum_receiver: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
