//! The layer among its usual neighbours in axum: tower-http's `TraceLayer` and `TimeoutLayer`
//! on the whole router, the webhook layer on its one route with `route_layer`, and a
//! `tracing-subscriber` that shows each delivery's span (`event_type`, `incident_id`,
//! `outcome`, `reason`, `status`).
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example compose_axum
//! ```
#![allow(clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use axum::{
    Router,
    http::StatusCode,
    routing::{get, post},
};
use flowtriq_webhook::Deduplicator;
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use tower_http::{timeout::TimeoutLayer, trace::TraceLayer};
use tracing_subscriber::fmt::format::FmtSpan;

async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> StatusCode {
    tracing::info!(title = ?event.incident.as_ref().and_then(|i| i.title.as_deref()), "alert");
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The delivery span is at DEBUG, as tower-http makes its own: switched on here.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=debug,flowtriq_webhook=debug".into()),
        )
        // One line per finished delivery, with the span's fields.
        .with_span_events(FmtSpan::CLOSE)
        .init();

    let Ok(secret) = std::env::var("FLOWTRIQ_WEBHOOK_SECRET") else {
        eprintln!("compose_axum: FLOWTRIQ_WEBHOOK_SECRET is not set");
        return ExitCode::from(2);
    };
    let app = Router::new()
        .route("/webhook", post(webhook))
        // Only the route above requires a signature.
        .route_layer(VerifyWebhookLayer::new(secret).deduplicate(Deduplicator::in_memory()))
        .route("/health", get(|| async { "ok" }))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(15),
        ))
        .layer(TraceLayer::new_for_http());

    let listener = match tokio::net::TcpListener::bind("127.0.0.1:3000").await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("compose_axum: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://127.0.0.1:3000");
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("compose_axum: {error}");
            ExitCode::FAILURE
        }
    }
}
