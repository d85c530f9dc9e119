//! [`FlowtriqEvent`]: the extractor, and [`WebhookError`], its error.

use std::{fmt, future::Future, ops::Deref, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError, dev::Payload,
    http::StatusCode, web,
};
use flowtriq_webhook::{Error, Receiver, Reply, VerifiedEvent, Verifier};

use tracing::Instrument;

use crate::body::{admit, reply_response, status};

/// The verified event, for handlers.
///
/// Behind the [`VerifyWebhook`](crate::VerifyWebhook) middleware it hands over the event the
/// middleware verified. Without the middleware it verifies the delivery itself, with the
/// [`Verifier`] registered as app data (`app_data(verifier)` or
/// `app_data(web::Data::new(verifier))`); it then consumes the payload, so other body
/// extractors in the same handler see an empty body (the raw bytes are in
/// [`VerifiedEvent::body`]). With neither, it answers `500` naming what to configure.
///
/// On its own it does not de-duplicate retries: an extractor cannot see the handler's answer,
/// so it cannot tell a handled delivery from a failed one. Use the middleware with
/// [`VerifyWebhook::deduplicate`](crate::VerifyWebhook::deduplicate) for that.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use flowtriq_webhook::Verifier;
/// use flowtriq_webhook_actix::FlowtriqEvent;
///
/// async fn webhook(FlowtriqEvent(event): FlowtriqEvent) -> HttpResponse {
///     // The exact bytes that were verified, without a copy:
///     let raw = event.body();
///     HttpResponse::Ok().body(format!("{} ({} bytes)", event.event_type, raw.len()))
/// }
///
/// let app = App::new()
///     .app_data(Verifier::new("my-webhook-secret"))
///     .route("/webhook", web::post().to(webhook));
/// # drop(app);
/// ```
#[derive(Debug, Clone)]
pub struct FlowtriqEvent(pub VerifiedEvent);

impl FlowtriqEvent {
    /// The verified event.
    pub fn into_inner(self) -> VerifiedEvent {
        self.0
    }
}

impl Deref for FlowtriqEvent {
    type Target = VerifiedEvent;

    fn deref(&self) -> &VerifiedEvent {
        &self.0
    }
}

impl FromRequest for FlowtriqEvent {
    type Error = WebhookError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebhookError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if let Some(verified) = request.extensions().get::<VerifiedEvent>() {
            let verified = verified.clone();
            return Box::pin(async move { Ok(Self(verified)) });
        }
        let Some(verifier) = configured_verifier(request) else {
            return Box::pin(async { Err(WebhookError::MissingVerifier) });
        };
        let receiver = Receiver::new(verifier);
        let request = request.clone();
        let payload = payload.take();
        let span = receiver.delivery_span();
        Box::pin(async move {
            match admit(&receiver, request.headers(), payload)
                .instrument(span)
                .await
            {
                // No deduplicator: the guard tracks nothing.
                Ok((event, _untracked)) => Ok(Self(event)),
                Err(reply) => Err(WebhookError::Rejected(reply)),
            }
        })
    }
}

/// The verifier registered as app data, plain or in `web::Data`.
fn configured_verifier(request: &HttpRequest) -> Option<Verifier> {
    request
        .app_data::<Verifier>()
        .or_else(|| {
            request
                .app_data::<web::Data<Verifier>>()
                .map(web::Data::get_ref)
        })
        .cloned()
}

/// Why [`FlowtriqEvent`] refused the request.
///
/// As an actix-web [`ResponseError`] it answers like the middleware: the [`Reply`]'s status,
/// `application/json` and `{"error":"<code>"}`.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebhookError {
    /// The delivery failed verification: 401, 400 or 413 with `{"error":"<code>"}`.
    Rejected(Reply),
    /// Neither the [`VerifyWebhook`](crate::VerifyWebhook) middleware nor a [`Verifier`] in the
    /// app data is configured for this route: 500.
    MissingVerifier,
}

impl From<Error> for WebhookError {
    fn from(error: Error) -> Self {
        Self::Rejected(Reply::from(error))
    }
}

impl fmt::Display for WebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(reply) => write!(
                f,
                "Flowtriq delivery rejected with {}: {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ),
            Self::MissingVerifier => f.write_str(
                "no Flowtriq verifier configured for this route: wrap it in the `VerifyWebhook` \
                 middleware, or register a `Verifier` with `app_data(verifier)` or \
                 `app_data(web::Data::new(verifier))`",
            ),
        }
    }
}

impl std::error::Error for WebhookError {}

impl ResponseError for WebhookError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Rejected(reply) => status(reply),
            Self::MissingVerifier => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Rejected(reply) => reply_response(reply),
            Self::MissingVerifier => {
                tracing::error!("{self}");
                HttpResponse::InternalServerError()
                    .content_type("text/plain; charset=utf-8")
                    .body(self.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use flowtriq_webhook::SignatureError;

    use super::*;

    #[test]
    fn response_error_maps_like_the_middleware() {
        let rejected = WebhookError::from(Error::Signature(SignatureError::Missing));
        assert_eq!(rejected.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            rejected.to_string(),
            r#"Flowtriq delivery rejected with 401: {"error":"missing_signature"}"#
        );
        assert_eq!(
            rejected.error_response().headers().get("content-type"),
            Some(&actix_web::http::header::HeaderValue::from_static(
                "application/json"
            ))
        );

        let missing = WebhookError::MissingVerifier;
        assert_eq!(missing.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            missing.error_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert!(missing.to_string().contains("VerifyWebhook"));
    }
}
