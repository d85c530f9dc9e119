//! axum extractors: [`FlowtriqEvent`] behind the layer, [`VerifiedWebhook`] on its own.

use std::{fmt, ops::Deref};

use axum_core::{
    extract::{FromRef, FromRequest, FromRequestParts, OptionalFromRequestParts, Request},
    response::{IntoResponse, Response},
};
use flowtriq_webhook::{Receiver, Reply, VerifiedEvent, Verifier};
use http::{StatusCode, request::Parts};
use tracing::Instrument;

use crate::body::{admit, reply_response};

/// The event verified by [`VerifyWebhookLayer`](crate::VerifyWebhookLayer).
///
/// Without the layer on the route it rejects with `500 Internal Server Error`, as axum's
/// `Extension` does for a missing extension; `Option<FlowtriqEvent>` gives `None` instead.
///
/// ```
/// use axum::{body::Bytes, routing::post, Json, Router};
/// use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
///
/// async fn webhook(FlowtriqEvent(event): FlowtriqEvent, raw: Bytes) -> Json<serde_json::Value> {
///     // The raw bytes are still there, and they are exactly what was verified.
///     assert_eq!(raw, *event.body());
///     Json(serde_json::json!({ "incident": event.incident_id() }))
/// }
///
/// let app: Router = Router::new()
///     .route("/webhook", post(webhook))
///     .route_layer(VerifyWebhookLayer::new("my-webhook-secret"));
/// ```
#[derive(Debug, Clone)]
pub struct FlowtriqEvent(pub VerifiedEvent);

/// Verifies the delivery itself, without the layer, with a [`Verifier`] taken from the router
/// state (`Verifier: FromRef<S>`). It consumes the body, so it must be the last extractor.
///
/// Use it for a single route; use the layer to guard several routes, to keep reading the raw
/// body in other extractors, or to de-duplicate retries (an extractor cannot see the
/// handler's answer, so it cannot tell a handled delivery from a failed one).
///
/// ```
/// use axum::{routing::post, Router};
/// use flowtriq_webhook::Verifier;
/// use flowtriq_webhook_tower::VerifiedWebhook;
///
/// async fn webhook(VerifiedWebhook(event): VerifiedWebhook) -> String {
///     event.event_type.to_string()
/// }
///
/// let app: Router = Router::new()
///     .route("/webhook", post(webhook))
///     .with_state(Verifier::new("my-webhook-secret"));
/// ```
#[derive(Debug, Clone)]
pub struct VerifiedWebhook(pub VerifiedEvent);

/// Why an extractor refused the request.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookRejection {
    /// The delivery failed verification: 401, 400 or 413 with `{"error":"<code>"}`.
    Rejected(Reply),
    /// [`FlowtriqEvent`] was used on a route that [`VerifyWebhookLayer`](crate::VerifyWebhookLayer)
    /// does not cover: 500.
    MissingLayer,
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(reply) => write!(
                f,
                "Flowtriq delivery rejected with {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ),
            Self::MissingLayer => f.write_str(
                "no verified Flowtriq event in the request extensions; \
                 is `VerifyWebhookLayer` applied to this route?",
            ),
        }
    }
}

impl std::error::Error for WebhookRejection {}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Rejected(reply) => reply_response(reply),
            Self::MissingLayer => {
                tracing::error!("{self}");
                (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for FlowtriqEvent {
    type Rejection = WebhookRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<VerifiedEvent>()
            .cloned()
            .map(Self)
            .ok_or(WebhookRejection::MissingLayer)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for FlowtriqEvent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<VerifiedEvent>().cloned().map(Self))
    }
}

impl<S> FromRequest<S> for VerifiedWebhook
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let receiver = Receiver::new(Verifier::from_ref(state));
        let (parts, body) = request.into_parts();
        let span = receiver.delivery_span();
        match admit(&receiver, &parts.headers, body)
            .instrument(span)
            .await
        {
            // No deduplicator: the guard tracks nothing.
            Ok((event, _untracked)) => Ok(Self(event)),
            Err(reply) => Err(WebhookRejection::Rejected(reply)),
        }
    }
}

impl Deref for FlowtriqEvent {
    type Target = VerifiedEvent;

    fn deref(&self) -> &VerifiedEvent {
        &self.0
    }
}

impl Deref for VerifiedWebhook {
    type Target = VerifiedEvent;

    fn deref(&self) -> &VerifiedEvent {
        &self.0
    }
}
