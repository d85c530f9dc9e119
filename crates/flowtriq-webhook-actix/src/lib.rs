//! Verify [Flowtriq](https://flowtriq.com) webhooks in actix-web 4.
//!
//! The [`VerifyWebhook`] middleware reads the body under a limit, checks the
//! `X-Flowtriq-Signature` HMAC over the exact bytes, parses the event, and only then calls your
//! handler, with the event in the request extensions (extract it with [`FlowtriqEvent`]) and
//! the same bytes put back as the payload. Everything else is answered by the middleware:
//!
//! | situation | answer |
//! |---|---|
//! | missing, malformed or wrong signature | `401` |
//! | body over the limit (1 MiB by default) | `413` |
//! | signed, but not a valid Flowtriq event | `400` |
//! | event outside the replay window (when enabled) | `401` |
//! | with a deduplicator: a retry of a delivery already handled with a 2xx | `200` `{"duplicate":true}` |
//! | with a deduplicator: a copy of a delivery still being handled | `409` |
//! | with a deduplicator: the delivery store is unreachable | `503` (unless it fails open) |
//!
//! Rejections carry a short `application/json` body, `{"error":"<code>"}`, and are logged
//! with `tracing`; neither ever contains the secret or the expected signature.
//!
//! ```
//! use actix_web::{http::StatusCode, test, web, App, HttpResponse};
//! use flowtriq_webhook::{sign, Secret};
//! use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
//!
//! async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> HttpResponse {
//!     // `event.incident`, `event.node`, `event.incident_id()`... and `event.body()`, the
//!     // exact bytes that were verified.
//!     HttpResponse::Ok().body(event.event_type.to_string())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new().service(
//!         web::scope("/webhook")
//!             .wrap(VerifyWebhook::new("my-webhook-secret"))
//!             .route("", web::post().to(webhook)),
//!     ),
//! )
//! .await;
//!
//! let body = r#"{"event_type":"attack_start","incident":{"id":147}}"#;
//! let signed = test::TestRequest::post()
//!     .uri("/webhook")
//!     .insert_header(("X-Flowtriq-Signature", sign(&Secret::new("my-webhook-secret"), body.as_bytes())))
//!     .set_payload(body)
//!     .to_request();
//! let response = test::call_service(&app, signed).await;
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(test::read_body(response).await, "attack_start");
//!
//! let forged = test::TestRequest::post().uri("/webhook").set_payload(body).to_request();
//! let response = test::call_service(&app, forged).await;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(test::read_body(response).await, r#"{"error":"missing_signature"}"#);
//! # });
//! ```
//!
//! # Where to wrap
//!
//! Wrap the scope or resource that receives the webhook, so the rest of the app is untouched.
//! `App::wrap` puts the middleware in front of every request the app receives: every route
//! then requires a signature, and so do unknown paths, which answer `401` instead of `404`.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
//!
//! async fn webhook(event: FlowtriqEvent) -> HttpResponse {
//!     HttpResponse::Ok().body(event.event_type.to_string())
//! }
//!
//! // Only `/webhook` requires a signature; `/health` and unknown paths behave as usual.
//! let scoped = App::new()
//!     .service(
//!         web::scope("/webhook")
//!             .wrap(VerifyWebhook::new("my-webhook-secret"))
//!             .route("", web::post().to(webhook)),
//!     )
//!     .route("/health", web::get().to(HttpResponse::Ok));
//!
//! // A single resource works the same way.
//! let resource = App::new().service(
//!     web::resource("/webhook")
//!         .wrap(VerifyWebhook::new("my-webhook-secret"))
//!         .route(web::post().to(webhook)),
//! );
//!
//! // A receiver that serves nothing else: every request must be a signed delivery, and
//! // `GET /anything` answers 401.
//! let whole_app = App::new()
//!     .wrap(VerifyWebhook::new("my-webhook-secret"))
//!     .route("/webhook", web::post().to(webhook));
//! # drop((scoped, resource, whole_app));
//! ```
//!
//! # Duplicates and retries
//!
//! Flowtriq retries a delivery that did not get a 2xx within 10 s, so the same event can
//! arrive more than once. With [`VerifyWebhook::deduplicate`] the middleware runs your handler
//! at most once to success per delivery (identified by its verified signature): a retry of a
//! delivery your handler answered with a 2xx is answered `200 {"duplicate":true}` without
//! running it again, and a copy that arrives while the first is still being handled is
//! answered `409`. Any other answer (a 4xx, a 5xx, an error from the wrapped service, a panic
//! or a dropped request) forgets the delivery, so Flowtriq's next retry runs the handler
//! again. If the delivery store cannot be reached the middleware answers `503` so that
//! Flowtriq retries, unless the [`Deduplicator`](flowtriq_webhook::Deduplicator) fails open.
//!
//! [`Deduplicator::in_memory`](flowtriq_webhook::Deduplicator::in_memory) remembers deliveries
//! in this process; share one store (such as Redis, with `flowtriq-webhook-redis`) between
//! several instances behind a load balancer. The same deduplicator serves every worker:
//! build it once, outside the `HttpServer` factory.
//!
//! ```
//! use actix_web::{http::StatusCode, test, web, App, HttpResponse};
//! use flowtriq_webhook::{sign, Deduplicator, Secret};
//! use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
//!
//! async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> HttpResponse {
//!     HttpResponse::Ok().body(event.event_type.to_string())
//! }
//!
//! # actix_web::rt::System::new().block_on(async {
//! let deduplicator = Deduplicator::in_memory();
//! let app = test::init_service(
//!     App::new().service(
//!         web::scope("/webhook")
//!             .wrap(VerifyWebhook::new("my-webhook-secret").deduplicate(deduplicator.clone()))
//!             .route("", web::post().to(webhook)),
//!     ),
//! )
//! .await;
//!
//! let body = r#"{"event_type":"attack_start","incident":{"id":147}}"#;
//! let signature = sign(&Secret::new("my-webhook-secret"), body.as_bytes());
//! let delivery = || {
//!     test::TestRequest::post()
//!         .uri("/webhook")
//!         .insert_header(("X-Flowtriq-Signature", signature.as_str()))
//!         .set_payload(body)
//!         .to_request()
//! };
//! let first = test::call_service(&app, delivery()).await;
//! assert_eq!(test::read_body(first).await, "attack_start");
//!
//! // Flowtriq retries the same delivery: the handler does not run again.
//! let retry = test::call_service(&app, delivery()).await;
//! assert_eq!(retry.status(), StatusCode::OK);
//! assert_eq!(test::read_body(retry).await, r#"{"duplicate":true}"#);
//! # });
//! ```
//!
//! # Without the middleware
//!
//! [`FlowtriqEvent`] also verifies the delivery by itself, through the same code, when a
//! [`Verifier`](flowtriq_webhook::Verifier) is registered as app data (plain or in
//! `web::Data`). It consumes the payload then: read the raw bytes from
//! [`VerifiedEvent::body`](flowtriq_webhook::VerifiedEvent::body). Without either the middleware
//! or the app data it answers `500` with a message naming what to configure. On its own it
//! does not de-duplicate: that needs the middleware, which sees the handler's answer.
//!
//! ```
//! use actix_web::{web, App, HttpResponse};
//! use flowtriq_webhook::Verifier;
//! use flowtriq_webhook_actix::FlowtriqEvent;
//!
//! async fn webhook(event: FlowtriqEvent) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("{} bytes verified", event.body().len()))
//! }
//!
//! let app = App::new()
//!     .app_data(web::Data::new(Verifier::new("my-webhook-secret")))
//!     .route("/webhook", web::post().to(webhook));
//! # drop(app);
//! ```
//!
//! # Body limits
//!
//! The middleware enforces its own limit ([`VerifyWebhook::body_limit`], 1 MiB by default): a
//! `Content-Length` above it is refused before reading, a chunked body is cut at limit + 1
//! byte. actix-web's extractors apply their own limits when a handler reads the body again
//! downstream: `web::Bytes` and `String` accept 256 KiB by default (`web::PayloadConfig`),
//! `web::Json` 2 MiB (`web::JsonConfig`). So a handler that takes `web::Bytes` refuses a
//! verified 300 KiB event with actix-web's own `413` unless `PayloadConfig` is raised to at
//! least the middleware's limit, even with the default limit. Raise both together:
//!
//! ```
//! use actix_web::{web, App};
//! use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
//!
//! const LIMIT: usize = 8 * 1024 * 1024;
//!
//! async fn webhook(_event: FlowtriqEvent, raw: web::Bytes) -> String {
//!     raw.len().to_string()
//! }
//!
//! let app = App::new()
//!     .app_data(web::PayloadConfig::new(LIMIT)) // `web::Bytes`, `String`: 256 KiB by default
//!     .app_data(web::JsonConfig::default().limit(LIMIT)) // `web::Json`: 2 MiB by default
//!     .service(
//!         web::scope("/webhook")
//!             .wrap(VerifyWebhook::new("my-webhook-secret").body_limit(LIMIT))
//!             .route("", web::post().to(webhook)),
//!     );
//! # drop(app);
//! ```
//!
//! The payload the middleware puts back is the verified buffer itself: `web::Payload` streams
//! it without a copy, and [`VerifiedEvent::body`](flowtriq_webhook::VerifiedEvent::body) is
//! that same buffer. `web::Bytes`, `String` and `web::Json` read the same bytes but collect
//! them into a buffer of their own, as they always do in actix-web.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod extract;
mod middleware;

pub use extract::{FlowtriqEvent, WebhookError};
pub use middleware::{VerifyWebhook, VerifyWebhookMiddleware};

pub use flowtriq_webhook;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
