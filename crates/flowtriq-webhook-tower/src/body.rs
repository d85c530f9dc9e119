//! Reading the request body under the limit and verifying it: the path shared by the service
//! and the axum extractor.

use bytes::{Buf, Bytes};
use flowtriq_webhook::{Error, SIGNATURE_HEADER, VerifiedEvent, Verifier};
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads `body` under the verifier's limit and verifies it against the signature in `headers`.
pub(crate) async fn verify_request<B>(
    verifier: &Verifier,
    headers: &HeaderMap,
    body: B,
) -> Result<VerifiedEvent, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let bytes = read_body(verifier, body).await?;
    let signature = headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes);
    verifier.verify(signature, bytes)
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

/// The response for a rejection: its status and `{"error":"<code>"}`.
pub(crate) fn rejection_response<B: From<Bytes>>(error: &Error) -> Response<B> {
    json_response(error.status(), error.response_body().into())
}

pub(crate) fn json_response<B: From<Bytes>>(status: u16, body: Bytes) -> Response<B> {
    let mut response = Response::new(B::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
