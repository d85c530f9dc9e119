//! Reading the request body under the limit and verifying it: the path shared by the service
//! and the axum extractor.

use bytes::{Buf, Bytes};
use flowtriq_webhook::{
    DeliveryGuard, Error, Receiver, Reply, SIGNATURE_HEADER, VerifiedEvent, Verifier,
};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The signature header's name, made once: looking it up by `&str` parses the name on every
/// request.
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// Reads `body` under the limit, verifies it against the signature in `headers` and, with a
/// deduplicator, reserves the delivery.
pub(crate) async fn admit<B>(
    receiver: &Receiver,
    headers: &HeaderMap,
    body: B,
) -> Result<(VerifiedEvent, DeliveryGuard), Reply>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let bytes = read_body(receiver.verifier(), body)
        .await
        .map_err(|error| receiver.reject(&error))?;
    let signature = headers.get(&SIGNATURE).map(HeaderValue::as_bytes);
    receiver.admit(signature, bytes).await
}

/// Collects the body, refusing a declared length above the limit before reading and a streamed
/// one at limit + 1 byte. A body arriving in one frame is passed on without a copy.
async fn read_body<B>(verifier: &Verifier, body: B) -> Result<Bytes, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    // hyper reports `Content-Length` as the exact size hint.
    let mut buffer = verifier.body_buffer(Some(body.size_hint().lower()))?;
    let mut body = std::pin::pin!(body);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| read_error(&*e.into(), verifier.body_limit()))?;
        if let Ok(mut data) = frame.into_data() {
            buffer.push(data.copy_to_bytes(data.remaining()))?;
        }
    }
    Ok(buffer.finish())
}

/// A body error is a transport failure unless a limit further out (axum's `DefaultBodyLimit`,
/// tower-http's `RequestBodyLimit`) cut the body; those arrive wrapped, so walk the chain.
fn read_error(error: &(dyn std::error::Error + 'static), limit: usize) -> Error {
    let mut source = Some(error);
    let error = loop {
        match source {
            Some(e) if e.is::<LengthLimitError>() => break Error::PayloadTooLarge { limit },
            Some(e) => source = e.source(),
            None => break Error::BodyRead(error.to_string()),
        }
    };
    error.log();
    error
}

/// The response for a reply given instead of running the handler.
pub(crate) fn reply_response<B: From<Bytes>>(reply: Reply) -> Response<B> {
    let mut response = Response::new(B::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Reply::CONTENT_TYPE),
    );
    response
}
