//! [`VerifyWebhook`]: the middleware service.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use flowtriq_webhook::Verifier;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::body::{rejection_response, verify_request};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Middleware that verifies Flowtriq deliveries before they reach the inner service.
///
/// A rejected delivery is answered here (401, 400 or 413 with `{"error":"<code>"}`) and never
/// reaches the inner service. A verified one reaches it with the
/// [`VerifiedEvent`](flowtriq_webhook::VerifiedEvent) in the request extensions and the exact
/// verified bytes as the body, so extractors downstream can still read the raw body.
///
/// Built by [`VerifyWebhookLayer`](crate::VerifyWebhookLayer).
#[derive(Debug, Clone)]
pub struct VerifyWebhook<S> {
    inner: S,
    verifier: Verifier,
}

impl<S> VerifyWebhook<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, verifier: Verifier) -> Self {
        Self { inner, verifier }
    }
}

/// Response future of [`VerifyWebhook`].
pub type ResponseFuture<ResBody, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResBody>, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyWebhook<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The clone is not ready; keep the service that `poll_ready` readied and leave the
        // clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let verified = match verify_request(&verifier, &parts.headers, body).await {
                Ok(verified) => verified,
                Err(error) => return Ok(rejection_response(&error)),
            };
            let body = Full::new(verified.body().clone());
            parts.extensions.insert(verified);
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}
