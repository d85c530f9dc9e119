//! [`VerifyWebhook`]: the middleware service.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use flowtriq_webhook::Receiver;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;
use tracing::Instrument;

use crate::body::{admit, reply_response};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Middleware that verifies Flowtriq deliveries before they reach the inner service.
///
/// A rejected delivery is answered here (401, 400 or 413 with `{"error":"<code>"}`; with a
/// deduplicator, `200 {"duplicate":true}` for a retry of a handled delivery and 409 or 503) and
/// never reaches the inner service. A verified one reaches it with the
/// [`VerifiedEvent`](flowtriq_webhook::VerifiedEvent) in the request extensions and the exact
/// verified bytes as the body, so extractors downstream can still read the raw body.
///
/// Built by [`VerifyWebhookLayer`](crate::VerifyWebhookLayer).
#[derive(Debug, Clone)]
pub struct VerifyWebhook<S> {
    inner: S,
    receiver: Receiver,
}

impl<S> VerifyWebhook<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, receiver: impl Into<Receiver>) -> Self {
        Self {
            inner,
            receiver: receiver.into(),
        }
    }
}

/// Response future of [`VerifyWebhook`].
pub type ResponseFuture<ResBody, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResBody>, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyWebhook<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
    ReqBody: Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<Bytes> + Send,
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
        let receiver = self.receiver.clone();
        let span = receiver.delivery_span();
        let delivery = async move {
            let (mut parts, body) = request.into_parts();
            let (verified, guard) = match admit(&receiver, &parts.headers, body).await {
                Ok(admitted) => admitted,
                Err(reply) => return Ok(reply_response(reply)),
            };
            let body = Full::new(verified.body().clone());
            parts.extensions.insert(verified);
            // Dropped unfinished (a panic, a cancelled request), the guard releases the
            // delivery so that Flowtriq's retry is handled afresh.
            let result = inner.call(Request::from_parts(parts, body)).await;
            let status = result
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            guard.finish(status).await;
            result
        };
        Box::pin(delivery.instrument(span))
    }
}
