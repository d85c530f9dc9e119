//! The server `bench/http.sh` measures: one framework, chosen by the first argument, serving
//! two routes side by side in one process.
//!
//! - `POST /webhook`: verified by our adapter, answered as the receiver examples answer.
//! - `POST /baseline`: the same answer for the body parsed into `Event` with `serde_json`,
//!   without verifying anything: what a receiver costs without us.
//!
//! `/baseline` accepts forged events: this is a measuring tool, not a receiver.
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --release --example bench_server -- axum|actix|warp
//! ```
//!
//! It reads `FLOWTRIQ_WEBHOOK_SECRET`, `FLOWTRIQ_LISTEN` (default `127.0.0.1:3000`) and
//! `RUST_LOG` as the receivers do, and prints `listening on http://ADDR`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use flowtriq_webhook::{Event, Receiver};
use flowtriq_webhook_examples::{ReceiverConfig, echo};

fn main() -> ExitCode {
    let framework = std::env::args().nth(1).unwrap_or_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match ReceiverConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("bench_server: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match framework.as_str() {
        "axum" => tokio_runtime().and_then(|runtime| runtime.block_on(axum_server(config))),
        "warp" => tokio_runtime().and_then(|runtime| runtime.block_on(warp_server(config))),
        "actix" => actix_web::rt::System::new().block_on(actix_server(config)),
        _ => Err("usage: bench_server axum|actix|warp".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The runtime `#[tokio::main]` builds, as the axum and warp receivers use.
fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}

/// The baseline's parse: the body straight into `Event`, no signature, no UTF-8 pre-check.
fn parse_unverified(raw: &[u8]) -> Option<Event> {
    serde_json::from_slice(raw).ok()
}

async fn receiver(config: &ReceiverConfig) -> Result<Receiver, String> {
    config.receiver().await.map_err(|e| e.to_string())
}

async fn axum_server(config: ReceiverConfig) -> Result<(), String> {
    use axum::{
        Json, Router, body::Bytes, http::StatusCode, response::IntoResponse, routing::post,
    };
    use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};

    let receiver = receiver(&config).await?;
    let verified = Router::new()
        .route(
            "/webhook",
            post(|FlowtriqEvent(event): FlowtriqEvent| async move { Json(echo(&event)) }),
        )
        .route_layer(VerifyWebhookLayer::from_receiver(receiver));
    let baseline = Router::new().route(
        "/baseline",
        post(|raw: Bytes| async move {
            match parse_unverified(&raw) {
                Some(event) => Json(echo(&event)).into_response(),
                None => StatusCode::BAD_REQUEST.into_response(),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    axum::serve(listener, verified.merge(baseline))
        .await
        .map_err(|e| e.to_string())
}

async fn actix_server(config: ReceiverConfig) -> Result<(), String> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};

    let receiver = receiver(&config).await?;
    let server = HttpServer::new(move || {
        App::new()
            .service(
                web::scope("/webhook")
                    .wrap(VerifyWebhook::from_receiver(receiver.clone()))
                    .route(
                        "",
                        web::post().to(|FlowtriqEvent(event): FlowtriqEvent| async move {
                            HttpResponse::Ok().json(echo(&event))
                        }),
                    ),
            )
            .route(
                "/baseline",
                web::post().to(|raw: web::Bytes| async move {
                    match parse_unverified(&raw) {
                        Some(event) => HttpResponse::Ok().json(echo(&event)),
                        None => HttpResponse::BadRequest().finish(),
                    }
                }),
            )
    })
    .bind(config.listen)
    .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = server.addrs().first().copied().unwrap_or(config.listen);
    println!("listening on http://{addr}");
    server.run().await.map_err(|e| e.to_string())
}

async fn warp_server(config: ReceiverConfig) -> Result<(), String> {
    use bytes::Bytes;
    use warp::{Filter, Reply, http::StatusCode};

    let receiver = receiver(&config).await?;
    let verified = warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(flowtriq_webhook_warp::handle(
            receiver,
            |event: flowtriq_webhook::VerifiedEvent| async move {
                warp::reply::json(&echo(&event))
            },
        ));
    let baseline = warp::path("baseline")
        .and(warp::path::end())
        .and(warp::post())
        .and(warp::body::bytes())
        .map(|raw: Bytes| match parse_unverified(&raw) {
            Some(event) => warp::reply::json(&echo(&event)).into_response(),
            None => StatusCode::BAD_REQUEST.into_response(),
        });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on http://{addr}");
    warp::serve(verified.or(baseline))
        .incoming(listener)
        .run()
        .await;
    Ok(())
}
