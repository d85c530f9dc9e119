//! The filters: read the body under the limit, verify it, de-duplicate when asked, and
//! extract the event or run the handler.

use std::future::Future;

use bytes::{Buf, Bytes};
use flowtriq_webhook::{
    DeliveryGuard, Error, Receiver, Reply, SIGNATURE_HEADER, VerifiedEvent, Verifier,
};
use futures_util::{Stream, StreamExt};
use warp::{Filter, Rejection, http::HeaderValue, reply::Response};

use tracing::{Instrument, Span};

use crate::{WebhookRejection, rejection::reply_response};

/// Verifies the delivery and extracts the [`VerifiedEvent`].
///
/// The filter reads the request body itself, under the verifier's limit
/// ([`Verifier::with_body_limit`], 1 MiB by default), checks the `X-Flowtriq-Signature` HMAC
/// over the exact bytes and parses the event. The raw bytes stay available as
/// [`event.body()`](VerifiedEvent::body); [`event_with_body`] hands them over as a second
/// value.
///
/// It rejects with a [`WebhookRejection`]; put [`recover`](crate::recover) on the route or the
/// server, or such a rejection answers `500`.
///
/// It does not de-duplicate Flowtriq's retries: a filter never sees the reply of the handler
/// after it, so it cannot tell a handled delivery from a failed one. [`handle`] can.
///
/// ```
/// use flowtriq_webhook::{EventType, VerifiedEvent, Verifier};
/// use warp::Filter;
///
/// let webhook = warp::path("webhook")
///     .and(warp::path::end())
///     .and(warp::post())
///     .and(flowtriq_webhook_warp::event(Verifier::new("my-webhook-secret")))
///     .map(|event: VerifiedEvent| {
///         if event.event_type == EventType::AttackStart {
///             // page the on-call
///         }
///         warp::reply()
///     })
///     .recover(flowtriq_webhook_warp::recover);
/// ```
///
/// Put it after the path and method filters: it takes the body, and warp cannot hand a body
/// to another route once a filter has read it.
pub fn event(
    verifier: Verifier,
) -> impl Filter<Extract = (VerifiedEvent,), Error = Rejection> + Clone {
    admitted(Receiver::new(verifier)).and_then(|(_span, admitted): Admitted| async move {
        // No deduplicator: the guard tracks nothing.
        admitted
            .map(|(event, _untracked)| event)
            .map_err(|reply| warp::reject::custom(WebhookRejection::from(reply)))
    })
}

/// [`event`], with the raw body as a second value: the exact bytes that were verified, to
/// parse into a type of your own or to store.
///
/// The bytes are shared with [`VerifiedEvent::body`], not copied.
///
/// ```
/// use bytes::Bytes;
/// use flowtriq_webhook::{VerifiedEvent, Verifier};
/// use warp::Filter;
///
/// let webhook = warp::path("webhook")
///     .and(warp::post())
///     .and(flowtriq_webhook_warp::event_with_body(Verifier::new("my-webhook-secret")))
///     .map(|event: VerifiedEvent, raw: Bytes| {
///         assert_eq!(&raw, event.body());
///         format!("{} bytes of {}", raw.len(), event.event_type)
///     })
///     .recover(flowtriq_webhook_warp::recover);
/// ```
pub fn event_with_body(
    verifier: Verifier,
) -> impl Filter<Extract = (VerifiedEvent, Bytes), Error = Rejection> + Clone {
    event(verifier)
        .map(|event: VerifiedEvent| {
            let body = event.body().clone();
            (event, body)
        })
        .untuple_one()
}

/// Verifies the delivery, de-duplicates Flowtriq's retries with the receiver's
/// [`Deduplicator`](flowtriq_webhook::Deduplicator), runs `handler` once per delivery and
/// answers with its reply.
///
/// The filter reads the body under the verifier's limit, verifies it and, with a
/// deduplicator, reserves the delivery. Then:
///
/// | delivery | answer |
/// |---|---|
/// | verified, new | `handler(event)`; its reply, whose status is recorded: a 2xx marks the delivery as handled, anything else forgets it so that Flowtriq's retry runs the handler again |
/// | a retry of one the handler answered with a 2xx | `200 {"duplicate":true}`, without running the handler |
/// | a copy of one still being handled | `409` |
/// | the delivery store is unreachable | `503` (unless the deduplicator fails open) |
/// | forged, too large or malformed | `401`, `413` or `400` with `{"error":"<code>"}` |
///
/// Every one of these is the route's final answer (`Content-Type: application/json` for all
/// but the handler's own): the filter never rejects once it has read the body, so neither a
/// [`recover`](crate::recover) nor care about `.or()` is needed. A handler that panics, or a
/// request dropped while it runs, releases the delivery, and the retry is handled afresh.
///
/// `receiver` may also be a bare [`Verifier`]: the handler then runs for every verified
/// delivery, as after [`event`].
///
/// ```
/// use flowtriq_webhook::{Deduplicator, Receiver, VerifiedEvent, Verifier};
/// use warp::{Filter, http::StatusCode};
///
/// async fn on_event(event: VerifiedEvent) -> Result<String, StatusCode> {
///     // A non-2xx answer makes Flowtriq retry, and the retry runs this again.
///     Ok(format!("handled {}", event.event_type))
/// }
///
/// let receiver = Receiver::new(Verifier::new("my-webhook-secret"))
///     .with_deduplicator(Deduplicator::in_memory());
/// let webhook = warp::path("webhook")
///     .and(warp::path::end())
///     .and(warp::post())
///     .and(flowtriq_webhook_warp::handle(receiver, on_event));
/// let fallback = warp::any().map(|| "hello");
/// let routes = webhook.or(fallback);
/// # let _ = routes;
/// ```
///
/// Put it after the path and method filters, as [`event`]: it takes the body.
pub fn handle<F, Fut, R>(
    receiver: impl Into<Receiver>,
    handler: F,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Fn(VerifiedEvent) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = R> + Send,
    R: warp::Reply,
{
    admitted(receiver.into()).then(move |(span, admitted): Admitted| {
        let handler = handler.clone();
        async move {
            let (event, guard) = match admitted {
                Ok(admitted) => admitted,
                Err(reply) => return reply_response(&reply),
            };
            // Dropped unfinished (a panic, a cancelled request), the guard releases the
            // delivery so that Flowtriq's retry is handled afresh.
            let response = handler(event).await.into_response();
            guard.finish(response.status().as_u16()).await;
            response
        }
        .instrument(span)
    })
}

/// What [`admit`] decided: the event and its guard, or the answer to give instead; with the
/// delivery's span, for the rest of the delivery to run in.
type Admitted = (Span, Result<(VerifiedEvent, DeliveryGuard), Reply>);

/// The one path of every filter here: read the body under the limit, verify it and, with a
/// deduplicator, reserve the delivery.
fn admitted(receiver: Receiver) -> impl Filter<Extract = (Admitted,), Error = Rejection> + Clone {
    warp::any()
        .map(move || receiver.clone())
        .and(warp::header::optional::<u64>("content-length"))
        .and(signature_header())
        .and(warp::body::stream())
        .then(admit)
}

/// The raw signature header value, or `None` when absent. Taken as bytes, so a value that is
/// not visible ASCII reaches the verifier (and answers 401) instead of warp's 400.
fn signature_header()
-> impl Filter<Extract = (Option<HeaderValue>,), Error = std::convert::Infallible> + Clone {
    warp::header::value(SIGNATURE_HEADER)
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

async fn admit<S, B>(
    receiver: Receiver,
    content_length: Option<u64>,
    signature: Option<HeaderValue>,
    body: S,
) -> Admitted
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let span = receiver.delivery_span();
    let admitted = async {
        let body = read_body(&receiver, content_length, body)
            .await
            .map_err(|error| receiver.reject(&error))?;
        receiver
            .admit(signature.as_ref().map(HeaderValue::as_bytes), body)
            .await
    }
    .instrument(span.clone())
    .await;
    (span, admitted)
}

/// Collects the body, refusing a declared length above the limit before reading and a streamed
/// one as soon as it passes the limit. A body arriving in one chunk is passed on without a copy.
async fn read_body<S, B>(
    receiver: &Receiver,
    content_length: Option<u64>,
    body: S,
) -> Result<Bytes, Error>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut buffer = receiver.body_buffer(content_length)?;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk.map_err(|e| {
            let error = Error::BodyRead(e.to_string());
            error.log();
            error
        })?;
        buffer.push(chunk.copy_to_bytes(chunk.remaining()))?;
    }
    Ok(buffer.finish())
}
