//! The filters among other routes in warp: the webhook route with its own `recover`, a health
//! route beside it with `.or()`, `warp::trace::request()` for a span per request, and a
//! `tracing-subscriber` that shows each delivery's span too.
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example compose_warp
//! ```
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

use flowtriq_webhook::{Deduplicator, Receiver, VerifiedEvent, Verifier};
use tracing_subscriber::fmt::format::FmtSpan;
use warp::Filter;

async fn webhook(event: VerifiedEvent) -> impl warp::Reply {
    tracing::info!(incident = ?event.incident_id(), "alert");
    warp::http::StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // The delivery span is at DEBUG, as tower-http's request spans are: switched on here.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,flowtriq_webhook=debug".into()),
        )
        .with_span_events(FmtSpan::CLOSE)
        .init();

    let Ok(secret) = std::env::var("FLOWTRIQ_WEBHOOK_SECRET") else {
        eprintln!("compose_warp: FLOWTRIQ_WEBHOOK_SECRET is not set");
        return ExitCode::from(2);
    };
    let receiver =
        Receiver::new(Verifier::new(secret)).with_deduplicator(Deduplicator::in_memory());

    // `handle` answers every delivery itself (rejections included), so the `.or()` below
    // can never turn a forged delivery into the health route's answer.
    let webhook = warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(flowtriq_webhook_warp::handle(receiver, webhook));
    let health = warp::path("health").and(warp::get()).map(|| "ok");
    let routes = webhook.or(health).with(warp::trace::request());

    let listener = match tokio::net::TcpListener::bind("127.0.0.1:3000").await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("compose_warp: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://127.0.0.1:3000");
    warp::serve(routes).incoming(listener).run().await;
    ExitCode::SUCCESS
}
