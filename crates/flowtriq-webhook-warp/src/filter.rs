//! The filters: read the body under the limit, verify it, extract the event.

use bytes::{Buf, Bytes};
use flowtriq_webhook::{Error, SIGNATURE_HEADER, VerifiedEvent, Verifier};
use futures_util::{Stream, StreamExt};
use warp::{Filter, Rejection, http::HeaderValue};

use crate::WebhookRejection;

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
    warp::any()
        .map(move || verifier.clone())
        .and(warp::header::optional::<u64>("content-length"))
        .and(signature_header())
        .and(warp::body::stream())
        .and_then(verify)
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

/// The raw signature header value, or `None` when absent. Taken as bytes, so a value that is
/// not visible ASCII reaches the verifier (and answers 401) instead of warp's 400.
fn signature_header()
-> impl Filter<Extract = (Option<HeaderValue>,), Error = std::convert::Infallible> + Clone {
    warp::header::value(SIGNATURE_HEADER)
        .map(Some)
        .or(warp::any().map(|| None))
        .unify()
}

async fn verify<S, B>(
    verifier: Verifier,
    content_length: Option<u64>,
    signature: Option<HeaderValue>,
    body: S,
) -> Result<VerifiedEvent, Rejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let body = read_body(&verifier, content_length, body).await?;
    verifier
        .verify(signature.as_ref().map(HeaderValue::as_bytes), body)
        .map_err(|error| warp::reject::custom(WebhookRejection::new(error)))
}

/// Collects the body, refusing a declared length above the limit before reading and a streamed
/// one as soon as it passes the limit. A body arriving in one chunk is passed on without a copy.
async fn read_body<S, B>(
    verifier: &Verifier,
    content_length: Option<u64>,
    body: S,
) -> Result<Bytes, WebhookRejection>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut buffer = verifier.body_buffer(content_length)?;
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
