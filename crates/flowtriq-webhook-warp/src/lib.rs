//! Verify [Flowtriq](https://flowtriq.com) webhooks in [warp](https://docs.rs/warp).
//!
//! [`event`] is a filter that reads the body under a limit, checks the `X-Flowtriq-Signature`
//! HMAC over the exact bytes, parses the event and extracts a
//! [`VerifiedEvent`](flowtriq_webhook::VerifiedEvent). When the delivery fails it rejects
//! with a [`WebhookRejection`], which [`recover`] turns into the answer:
//!
//! | situation | answer |
//! |---|---|
//! | missing, malformed or wrong signature | `401` |
//! | body over the limit (1 MiB by default) | `413` |
//! | signed, but not a valid Flowtriq event | `400` |
//! | event outside the replay window (when enabled) | `401` |
//!
//! Rejections carry a short JSON body, `{"error":"<code>"}`, and are logged with `tracing`.
//!
//! ```no_run
//! use flowtriq_webhook::{EventType, VerifiedEvent, Verifier};
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() {
//!     let verifier = Verifier::new(std::env::var("FLOWTRIQ_WEBHOOK_SECRET").unwrap_or_default());
//!
//!     let webhook = warp::path("webhook")
//!         .and(warp::path::end())
//!         .and(warp::post())
//!         .and(flowtriq_webhook_warp::event(verifier))
//!         .map(|event: VerifiedEvent| {
//!             if event.event_type == EventType::AttackStart {
//!                 // page the on-call
//!             }
//!             warp::reply()
//!         });
//!     let health = warp::path("health").and(warp::get()).map(|| "ok");
//!
//!     // Without `recover`, warp answers the filter's rejections with 500.
//!     let routes = webhook.or(health).recover(flowtriq_webhook_warp::recover);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//! }
//! ```
//!
//! # The raw body
//!
//! A warp filter that reads the body consumes it: nothing after [`event`] can read it again
//! with `warp::body::bytes()`. The exact bytes that were verified are kept in the event,
//! [`event.body()`](flowtriq_webhook::VerifiedEvent::body), and [`event_with_body`] extracts
//! them as a second value, `(VerifiedEvent, Bytes)`, sharing the same buffer.
//!
//! # Body limit
//!
//! The filter enforces the verifier's limit
//! ([`Verifier::with_body_limit`](flowtriq_webhook::Verifier::with_body_limit), 1 MiB by
//! default) while it streams the body: a `Content-Length` above it is refused before
//! anything is read, and a chunked body is cut as soon as it passes the limit. Do not add
//! `warp::body::content_length_limit` in front of it: that filter answers `411 Length
//! Required` to a chunked body, which carries no `Content-Length`.
//!
//! # Rejections and route order
//!
//! [`recover`] answers [`WebhookRejection`] and returns every other rejection unchanged, so
//! `404` and `405` still come from warp, and a `recover` of your own can follow it. To
//! answer the application's rejections yourself, look for ours with
//! `rejection.find::<WebhookRejection>()` and use [`WebhookRejection::response`].
//!
//! `a.or(b)` tries `b` whenever `a` rejects, also when the webhook filter refused a forged
//! delivery. With a catch-all route after the webhook route, put `recover` on the webhook
//! route itself, so that its answer is final:
//!
//! ```
//! use flowtriq_webhook::{VerifiedEvent, Verifier};
//! use warp::Filter;
//!
//! let webhook = warp::path("webhook")
//!     .and(warp::post())
//!     .and(flowtriq_webhook_warp::event(Verifier::new("my-webhook-secret")))
//!     .map(|_: VerifiedEvent| warp::reply())
//!     .recover(flowtriq_webhook_warp::recover);
//! let fallback = warp::any().map(|| "hello");
//! let routes = webhook.or(fallback);
//! # let _ = routes;
//! ```
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod filter;
mod rejection;

pub use filter::{event, event_with_body};
pub use rejection::{WebhookRejection, recover};

pub use flowtriq_webhook;
