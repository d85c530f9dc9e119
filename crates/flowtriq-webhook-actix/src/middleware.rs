//! [`VerifyWebhook`]: the middleware factory, and the service it builds.

use std::{
    future::{Ready, ready},
    rc::Rc,
    time::Duration,
};

use actix_web::{
    Error as ActixError, HttpMessage as _,
    body::{EitherBody, MessageBody},
    dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
};
use flowtriq_webhook::{Deduplicator, Receiver, Secret, Verifier};
use futures_util::future::LocalBoxFuture;

use tracing::Instrument;

use crate::body::{admit, reply_response};

/// Middleware that verifies Flowtriq deliveries before they reach the wrapped service.
///
/// A rejected delivery is answered here (401, 400 or 413 with `application/json`
/// `{"error":"<code>"}`; with a [deduplicator](Self::deduplicate), `200 {"duplicate":true}`
/// for a retry of a handled delivery and 409 or 503) and never reaches your handler. A
/// verified one reaches it with the
/// [`VerifiedEvent`](flowtriq_webhook::VerifiedEvent) in the request extensions (read it with
/// [`FlowtriqEvent`](crate::FlowtriqEvent)) and the exact verified bytes put back as the
/// payload, so `web::Bytes`, `web::Json` or `web::Payload` still read the raw body.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
///
/// async fn webhook(event: FlowtriqEvent) -> HttpResponse {
///     HttpResponse::Ok().body(event.event_type.to_string())
/// }
///
/// let app = App::new().service(
///     web::scope("/webhook")
///         .wrap(VerifyWebhook::new("current-secret").secret("previous-secret"))
///         .route("", web::post().to(webhook)),
/// );
/// # drop(app);
/// ```
#[derive(Debug, Clone)]
pub struct VerifyWebhook {
    receiver: Receiver,
}

impl VerifyWebhook {
    /// Accepts deliveries signed with `secret`, with the default 1 MiB body limit and no replay
    /// window.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self::from_verifier(Verifier::new(secret))
    }

    /// Uses a verifier built elsewhere.
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self::from_receiver(Receiver::new(verifier))
    }

    /// Uses a receiver (verifier and deduplicator) built elsewhere.
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
    /// actix-web's own extractors apply their own limits when they read the body downstream:
    /// `web::Bytes` and `String` 256 KiB by default (`web::PayloadConfig`), `web::Json` 2 MiB
    /// (`web::JsonConfig`). Raise those too, to at least this limit, if handlers read the body
    /// through them; see the [crate documentation](crate#body-limits).
    pub fn body_limit(self, limit: usize) -> Self {
        self.map_verifier(|verifier| verifier.with_body_limit(limit))
    }

    /// Refuses events whose `timestamp` is further than `window` from now.
    pub fn replay_window(self, window: Duration) -> Self {
        self.map_verifier(|verifier| verifier.with_replay_window(window))
    }

    /// Handles each delivery once: a retry of a delivery your handler answered with a 2xx gets
    /// `200 {"duplicate":true}` without reaching it, a copy still in flight gets 409, and an
    /// unreachable store 503 (unless the deduplicator fails open). See the
    /// [crate documentation](crate#duplicates-and-retries).
    ///
    /// ```
    /// use flowtriq_webhook::Deduplicator;
    /// use flowtriq_webhook_actix::VerifyWebhook;
    ///
    /// let middleware = VerifyWebhook::new("secret").deduplicate(Deduplicator::in_memory());
    /// ```
    pub fn deduplicate(self, deduplicator: Deduplicator) -> Self {
        Self::from_receiver(self.receiver.with_deduplicator(deduplicator))
    }

    /// The verifier this middleware uses.
    pub fn verifier(&self) -> &Verifier {
        self.receiver.verifier()
    }

    /// The receiver (verifier and deduplicator) this middleware uses.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl<S, B> Transform<S, ServiceRequest> for VerifyWebhook
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Transform = VerifyWebhookMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VerifyWebhookMiddleware {
            service: Rc::new(service),
            receiver: self.receiver.clone(),
        }))
    }
}

/// The service [`VerifyWebhook`] wraps around your app, scope or resource.
#[derive(Debug)]
pub struct VerifyWebhookMiddleware<S> {
    service: Rc<S>,
    receiver: Receiver,
}

impl<S, B> Service<ServiceRequest> for VerifyWebhookMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ActixError> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = ActixError;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, mut request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let receiver = self.receiver.clone();
        let span = receiver.delivery_span();
        let delivery = async move {
            let payload = request.take_payload();
            let (verified, guard) = match admit(&receiver, request.headers(), payload).await {
                Ok(admitted) => admitted,
                Err(reply) => {
                    let response = reply_response(&reply);
                    return Ok(request.into_response(response).map_into_right_body());
                }
            };
            // The verified buffer itself goes back as the payload: no copy.
            request.set_payload(Payload::from(verified.body().clone()));
            request.extensions_mut().insert(verified);
            // Dropped unfinished (a panic, a cancelled request), the guard releases the
            // delivery so that Flowtriq's retry is handled afresh.
            let result = service.call(request).await;
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            guard.finish(status).await;
            Ok(result?.map_into_left_body())
        };
        Box::pin(delivery.instrument(span))
    }
}
