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
use flowtriq_webhook::{Secret, Verifier};
use futures_util::future::LocalBoxFuture;

use crate::body::{rejection_response, verify_payload};

/// Middleware that verifies Flowtriq deliveries before they reach the wrapped service.
///
/// A rejected delivery is answered here (401, 400 or 413 with `application/json`
/// `{"error":"<code>"}`) and never reaches your handler. A verified one reaches it with the
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
    verifier: Verifier,
}

impl VerifyWebhook {
    /// Accepts deliveries signed with `secret`, with the default 1 MiB body limit and no replay
    /// window.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self::from_verifier(Verifier::new(secret))
    }

    /// Uses a verifier built elsewhere.
    pub fn from_verifier(verifier: Verifier) -> Self {
        Self { verifier }
    }

    /// Also accepts deliveries signed with `secret` (rotation).
    pub fn secret(self, secret: impl Into<Secret>) -> Self {
        Self::from_verifier(self.verifier.with_secret(secret))
    }

    /// Sets the largest accepted body in bytes (default 1 MiB).
    ///
    /// actix-web's own extractors apply their own limits when they read the body downstream:
    /// `web::Bytes` and `String` 256 KiB by default (`web::PayloadConfig`), `web::Json` 2 MiB
    /// (`web::JsonConfig`). Raise those too, to at least this limit, if handlers read the body
    /// through them; see the [crate documentation](crate#body-limits).
    pub fn body_limit(self, limit: usize) -> Self {
        Self::from_verifier(self.verifier.with_body_limit(limit))
    }

    /// Refuses events whose `timestamp` is further than `window` from now.
    pub fn replay_window(self, window: Duration) -> Self {
        Self::from_verifier(self.verifier.with_replay_window(window))
    }

    /// The verifier this middleware uses.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
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
            verifier: self.verifier.clone(),
        }))
    }
}

/// The service [`VerifyWebhook`] wraps around your app, scope or resource.
#[derive(Debug)]
pub struct VerifyWebhookMiddleware<S> {
    service: Rc<S>,
    verifier: Verifier,
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
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let payload = request.take_payload();
            let verified = match verify_payload(&verifier, request.headers(), payload).await {
                Ok(verified) => verified,
                Err(error) => {
                    let response = rejection_response(&error);
                    return Ok(request.into_response(response).map_into_right_body());
                }
            };
            // The verified buffer itself goes back as the payload: no copy.
            request.set_payload(Payload::from(verified.body().clone()));
            request.extensions_mut().insert(verified);
            let response = service.call(request).await?;
            Ok(response.map_into_left_body())
        })
    }
}
