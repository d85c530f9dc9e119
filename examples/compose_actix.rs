//! The middleware among its usual neighbours in actix-web: `Logger` on the app, the webhook
//! middleware on its scope only, a shared deduplicator, and a `tracing-subscriber` that shows
//! each delivery's span.
//!
//! ```sh
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example compose_actix
//! ```
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

use actix_web::{App, HttpResponse, HttpServer, middleware::Logger, web};
use flowtriq_webhook::Deduplicator;
use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
use tracing_subscriber::fmt::format::FmtSpan;

async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> HttpResponse {
    tracing::info!(incident = ?event.incident_id(), "alert");
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
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
        eprintln!("compose_actix: FLOWTRIQ_WEBHOOK_SECRET is not set");
        return ExitCode::from(2);
    };
    // Built once, outside the factory, so every worker shares the same store.
    let verify = VerifyWebhook::new(secret).deduplicate(Deduplicator::in_memory());
    let server = HttpServer::new(move || {
        App::new()
            // `Logger` logs through the `log` facade: every request, webhook or not.
            .wrap(Logger::default())
            .service(
                web::scope("/webhook")
                    .wrap(verify.clone())
                    .route("", web::post().to(webhook)),
            )
            .route("/health", web::get().to(HttpResponse::Ok))
    })
    .bind(("127.0.0.1", 3000));
    let result = match server {
        Ok(server) => server.run().await,
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("compose_actix: {error}");
            ExitCode::FAILURE
        }
    }
}
