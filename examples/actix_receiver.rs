//! A Flowtriq webhook receiver on actix-web.
//!
//! ```text
//! FLOWTRIQ_WEBHOOK_SECRET=... cargo run --example actix_receiver
//! ```
//!
//! Environment:
//! - `FLOWTRIQ_WEBHOOK_SECRET` (required): the secret configured in the Flowtriq dashboard.
//! - `FLOWTRIQ_LISTEN`: address to listen on, `127.0.0.1:3000` by default.
//! - `FLOWTRIQ_DEDUP`: `off` (default), `memory`, or a `redis://` URL: answer Flowtriq's
//!   retries of a handled delivery with `200 {"duplicate":true}` without running the handler.
//! - `FLOWTRIQ_REPLAY_WINDOW_SECS`: refuse events whose timestamp is further from now; unset
//!   means off.
//! - `FLOWTRIQ_HANDLER_DELAY_MS`: the handler sleeps this long before answering.
//! - `RUST_LOG`: log filter for the rejections logged on stderr, `info` by default.
//!
//! `POST /webhook` answers a verified event with `200` and
//! `{"event_type": ..., "incident_id": ..., "node": ...}`; everything else is answered by the
//! middleware (401, 400, 413) with `{"error":"<code>"}`, or with de-duplication on, as a
//! duplicate (200), a copy still in flight (409) or an unreachable store (503).

// An example program talks to its user on stdout and stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{process::ExitCode, time::Duration};

use actix_web::{
    App, HttpResponse, HttpServer, dev::Service as _, error::ErrorRequestTimeout, web,
};
use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
use flowtriq_webhook_examples::{ReceiverConfig, echo, init_tracing};

/// The longest a request may take, body and handler included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the handler waits before answering (`FLOWTRIQ_HANDLER_DELAY_MS`).
#[derive(Debug, Clone, Copy)]
struct HandlerDelay(Duration);

async fn webhook(event: FlowtriqEvent, delay: web::Data<HandlerDelay>) -> HttpResponse {
    if !delay.0.is_zero() {
        actix_web::rt::time::sleep(delay.0).await;
    }
    HttpResponse::Ok().json(echo(&event))
}

fn main() -> ExitCode {
    init_tracing();
    actix_web::rt::System::new().block_on(serve())
}

async fn serve() -> ExitCode {
    // Built once, so every worker shares one deduplicator; connecting to Redis happens here,
    // on the system's runtime.
    let (config, receiver) = match ReceiverConfig::load("actix_receiver").await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let ReceiverConfig {
        listen,
        handler_delay,
        ..
    } = config;
    let delay = web::Data::new(HandlerDelay(handler_delay));

    let server = HttpServer::new(move || {
        App::new()
            .app_data(delay.clone())
            .service(
                // Only `/webhook` requires a signature; other paths answer 404 as usual. The
                // handler reads the event, not `web::Bytes`, so actix-web's 256 KiB
                // `PayloadConfig` does not apply; raise it if you read the raw body that way.
                web::scope("/webhook")
                    .wrap(VerifyWebhook::from_receiver(receiver.clone()))
                    .route("", web::post().to(webhook)),
            )
            // Bounds the whole request, body included, so a client trickling its body cannot
            // hold a connection forever. Flowtriq itself gives up after 10 s.
            .wrap_fn(|request, service| {
                let call = service.call(request);
                async move {
                    actix_web::rt::time::timeout(REQUEST_TIMEOUT, call)
                        .await
                        .unwrap_or_else(|_| Err(ErrorRequestTimeout("request timed out")))
                }
            })
    })
    // Client request timeout: a client that has not sent its whole request head within 5 s
    // is answered 408 and disconnected, so stalled connections do not pile up (the body is
    // covered by the timeout above). This is actix-web's default, set here on purpose.
    .client_request_timeout(Duration::from_secs(5));

    let server = match server.bind(listen) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("actix_receiver: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The bound address, with port 0 resolved.
    let addr = server.addrs().first().copied().unwrap_or(listen);
    println!("listening on http://{addr}");
    match server.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("actix_receiver: {error}");
            ExitCode::FAILURE
        }
    }
}
