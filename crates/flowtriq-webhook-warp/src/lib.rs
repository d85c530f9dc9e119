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
//! [`event`] does not de-duplicate Flowtriq's retries; [`handle`] does (see
//! [Duplicates and retries](#duplicates-and-retries)).
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
//!
//! # Duplicates and retries
//!
//! Flowtriq retries a delivery that was not answered with a 2xx in time, so the same alert can
//! arrive more than once. [`handle`] runs the handler once per delivery: give it a
//! [`Receiver`](flowtriq_webhook::Receiver) with a
//! [`Deduplicator`](flowtriq_webhook::Deduplicator) (in memory, or shared between instances
//! through a store such as Redis) and the handler, and it answers
//!
//! - a retry of a delivery the handler answered with a 2xx: `200 {"duplicate":true}`,
//!   without running the handler again;
//! - a copy of a delivery still being handled: `409`;
//! - an unreachable store: `503`, so that Flowtriq retries later (unless the deduplicator
//!   fails open);
//! - everything else as [`event`] does, and otherwise with the handler's reply.
//!
//! A handler that answers anything but a 2xx, panics or is cut off with its request leaves the
//! delivery unhandled, and Flowtriq's retry runs it again.
//!
//! ```
//! use flowtriq_webhook::{sign, Deduplicator, Receiver, Secret, VerifiedEvent, Verifier};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let receiver = Receiver::new(Verifier::new("my-webhook-secret"))
//!     .with_deduplicator(Deduplicator::in_memory());
//! let webhook = warp::path("webhook")
//!     .and(warp::path::end())
//!     .and(warp::post())
//!     .and(flowtriq_webhook_warp::handle(receiver, |event: VerifiedEvent| async move {
//!         // page the on-call, once per alert
//!         warp::reply::json(&event.incident_id())
//!     }));
//!
//! let body = br#"{"event_type":"attack_start","incident":{"id":7}}"#;
//! let delivery = || {
//!     warp::test::request()
//!         .method("POST")
//!         .path("/webhook")
//!         .header("x-flowtriq-signature", sign(&Secret::new("my-webhook-secret"), body))
//!         .body(body)
//! };
//! let first = delivery().reply(&webhook).await;
//! assert_eq!((first.status().as_u16(), first.body().as_ref()), (200, b"7".as_slice()));
//! let retry = delivery().reply(&webhook).await;
//! assert_eq!(retry.status(), 200);
//! assert_eq!(retry.body().as_ref(), br#"{"duplicate":true}"#);
//! # }
//! ```
//!
//! Why a handler argument rather than a filter: a filter such as [`event`] extracts the event
//! and is done before the handler that follows it runs, and it never sees that handler's
//! reply. De-duplication needs that reply: a delivery may only be remembered as handled once
//! the handler answered it with a 2xx, and must be forgotten when it failed, so that the retry
//! runs it again. A filter could only remember every verified delivery (and swallow the retry
//! of a failed one) or none. [`handle`] holds the delivery while the handler runs and records
//! the status of the reply it gives.
//!
//! [`handle`] answers every delivery it read itself, rejections included, instead of rejecting:
//! the duplicate, `409` and `503` answers are not rejections anyway, and a rejection would let
//! `.or()` hand a forged delivery to the next route. The route's answer is final, and no
//! [`recover`] is needed for it.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod filter;
mod rejection;

pub use filter::{event, event_with_body, handle};
pub use rejection::{WebhookRejection, recover};

pub use flowtriq_webhook;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
