//! Verify [Flowtriq](https://flowtriq.com) webhooks in any tower stack: axum, hyper, tonic.
//!
//! [`VerifyWebhookLayer`] reads the body under a limit, checks the `X-Flowtriq-Signature`
//! HMAC over the exact bytes, parses the event, and only then calls your service, with the
//! [`VerifiedEvent`](flowtriq_webhook::VerifiedEvent) in the request extensions and the same
//! bytes as the body. Everything else is answered by the layer:
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
//! With axum (feature `axum`):
//!
//! ```
//! use axum::{routing::post, Router};
//! use flowtriq_webhook::EventType;
//! use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
//!
//! async fn webhook(FlowtriqEvent(event): FlowtriqEvent) {
//!     if event.event_type == EventType::AttackStart {
//!         // page the on-call
//!     }
//! }
//!
//! let app: Router = Router::new()
//!     .route("/webhook", post(webhook))
//!     .route_layer(VerifyWebhookLayer::new(std::env::var("FLOWTRIQ_WEBHOOK_SECRET").unwrap_or_default()));
//! ```
//!
//! `route_layer` guards the routes added before it and leaves unknown paths to answer 404;
//! `layer` also wraps the fallback, so every unknown path answers 401.
//!
//! # Body limits
//!
//! The layer enforces its own limit ([`VerifyWebhookLayer::body_limit`]): a `Content-Length`
//! above it is refused before reading, a chunked body is cut at limit + 1 byte. axum's
//! `DefaultBodyLimit` (2 MiB) applies to extractors that read the body downstream, such as
//! `Bytes` or `Json`; raise it too when you raise the layer's limit above 2 MiB:
//!
//! ```
//! use axum::{body::Bytes, extract::DefaultBodyLimit, routing::post, Router};
//! use flowtriq_webhook_tower::VerifyWebhookLayer;
//!
//! const LIMIT: usize = 8 * 1024 * 1024;
//! let app: Router = Router::new()
//!     .route("/webhook", post(|body: Bytes| async move { body.len().to_string() }))
//!     .route_layer(VerifyWebhookLayer::new("secret").body_limit(LIMIT))
//!     .layer(DefaultBodyLimit::max(LIMIT));
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
#[cfg(feature = "axum")]
mod extract;
mod layer;
mod service;

#[cfg(feature = "axum")]
pub use extract::{FlowtriqEvent, VerifiedWebhook, WebhookRejection};
pub use layer::VerifyWebhookLayer;
pub use service::{ResponseFuture, VerifyWebhook};

pub use flowtriq_webhook;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
