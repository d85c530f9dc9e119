//! [`VerifyWebhookLayer`]: configuration and the builder.

use std::time::Duration;

use flowtriq_webhook::{Deduplicator, Receiver, Secret, Verifier};
use tower_layer::Layer;

use crate::VerifyWebhook;

/// Applies [`VerifyWebhook`] to a service: every request must be a signed Flowtriq delivery.
///
/// ```
/// use axum::{routing::post, Router};
/// use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
///
/// async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> &'static str {
///     println!("{} for incident {:?}", event.event_type, event.incident_id());
///     "ok"
/// }
///
/// let app: Router = Router::new()
///     .route("/webhook", post(webhook))
///     // `route_layer` guards only the routes above; unknown paths still answer 404.
///     // `layer` would also wrap the fallback, so unknown paths would answer 401.
///     .route_layer(VerifyWebhookLayer::new("my-webhook-secret"));
/// ```
#[derive(Debug, Clone)]
pub struct VerifyWebhookLayer {
    receiver: Receiver,
}

impl VerifyWebhookLayer {
    /// A layer accepting deliveries signed with `secret`, with the default 1 MiB body limit
    /// and no replay window.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self::from_verifier(Verifier::new(secret))
    }

    /// A layer using a verifier built elsewhere.
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self::from_receiver(Receiver::new(verifier))
    }

    /// A layer using a receiver (verifier and deduplicator) built elsewhere.
    pub fn from_receiver(receiver: Receiver) -> Self {
        Self { receiver }
    }

    fn map_verifier(self, change: impl FnOnce(Verifier) -> Verifier) -> Self {
        let verifier = change(self.receiver.verifier().clone());
        Self::from_receiver(self.receiver.with_verifier(verifier))
    }

    /// Also accepts deliveries signed with `secret` (rotation).
    pub fn secret(self, secret: impl Into<Secret>) -> Self {
        self.map_verifier(|verifier| verifier.with_secret(secret))
    }

    /// Sets the largest accepted body in bytes (default 1 MiB).
    ///
    /// axum also limits bodies, to 2 MiB by default, before this layer sees them only when
    /// an extractor reads the body itself; if you raise this limit above 2 MiB and read the
    /// body downstream, raise axum's too with `DefaultBodyLimit::max`.
    pub fn body_limit(self, limit: usize) -> Self {
        self.map_verifier(|verifier| verifier.with_body_limit(limit))
    }

    /// Refuses events whose `timestamp` is further than `window` from now.
    pub fn replay_window(self, window: Duration) -> Self {
        self.map_verifier(|verifier| verifier.with_replay_window(window))
    }

    /// Handles each delivery once: a retry of a delivery the service answered with a 2xx gets
    /// `200 {"duplicate":true}` without reaching the service, a copy still in flight gets 409,
    /// and an unreachable store 503 (unless the deduplicator fails open).
    ///
    /// ```
    /// use flowtriq_webhook::Deduplicator;
    /// use flowtriq_webhook_tower::VerifyWebhookLayer;
    ///
    /// let layer = VerifyWebhookLayer::new("secret").deduplicate(Deduplicator::in_memory());
    /// ```
    pub fn deduplicate(self, deduplicator: Deduplicator) -> Self {
        Self::from_receiver(self.receiver.with_deduplicator(deduplicator))
    }

    /// The receiver (verifier and deduplicator) this layer uses.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S> Layer<S> for VerifyWebhookLayer {
    type Service = VerifyWebhook<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyWebhook::new(inner, self.receiver.clone())
    }
}
