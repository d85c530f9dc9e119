//! Reading the payload under the limit and admitting the delivery: the one path shared by the
//! middleware and the extractor.

use actix_web::{
    HttpResponse,
    dev::Payload,
    error::PayloadError,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderName, HeaderValue},
    },
    web::Bytes,
};
use flowtriq_webhook::{DeliveryGuard, Error, Receiver, Reply, SIGNATURE_HEADER, VerifiedEvent};
use futures_util::StreamExt as _;

/// The signature header's name, made once: looking it up by `&str` parses the name on every
/// request.
const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// Reads `payload` under the limit, verifies it against the signature in `headers` and, with a
/// deduplicator, reserves the delivery.
pub(crate) async fn admit(
    receiver: &Receiver,
    headers: &HeaderMap,
    payload: Payload,
) -> Result<(VerifiedEvent, DeliveryGuard), Reply> {
    let body = read_payload(receiver, content_length(headers), payload)
        .await
        .map_err(|error| receiver.reject(&error))?;
    let signature = headers.get(&SIGNATURE).map(HeaderValue::as_bytes);
    receiver.admit(signature, body).await
}

/// Collects the payload, refusing a declared length above the limit before reading and a
/// streamed one at limit + 1 byte. A body arriving in one chunk is passed on without a copy.
async fn read_payload(
    receiver: &Receiver,
    content_length: Option<u64>,
    mut payload: Payload,
) -> Result<Bytes, Error> {
    let mut buffer = receiver.body_buffer(content_length)?;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| read_error(&e, receiver.verifier().body_limit()))?;
        buffer.push(chunk)?;
    }
    Ok(buffer.finish())
}

/// The declared `Content-Length`, when there is a valid one (actix-web refuses a malformed one
/// before the request reaches the app).
fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A payload error is a transport failure, unless a limit further out cut the body.
fn read_error(error: &PayloadError, limit: usize) -> Error {
    let error = match error {
        PayloadError::Overflow => Error::PayloadTooLarge { limit },
        other => Error::BodyRead(other.to_string()),
    };
    error.log();
    error
}

/// The response for a reply given instead of running the handler: its status,
/// [`Reply::CONTENT_TYPE`] and its body.
pub(crate) fn reply_response(reply: &Reply) -> HttpResponse {
    HttpResponse::build(status(reply))
        .content_type(Reply::CONTENT_TYPE)
        .body(reply.body.clone())
}

pub(crate) fn status(reply: &Reply) -> StatusCode {
    StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[cfg(test)]
mod tests {
    use actix_web::{body::MessageBody as _, http::header::HeaderName};

    use super::*;

    #[test]
    fn content_length_is_read_when_valid() {
        let mut headers = HeaderMap::new();
        assert_eq!(content_length(&headers), None);
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("1048577"));
        assert_eq!(content_length(&headers), Some(1_048_577));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("many"));
        assert_eq!(content_length(&headers), None);
    }

    #[test]
    fn an_overflow_further_out_is_a_413_and_other_errors_a_400() {
        assert_eq!(
            read_error(&PayloadError::Overflow, 10),
            Error::PayloadTooLarge { limit: 10 }
        );
        assert_eq!(
            read_error(&PayloadError::Incomplete(None), 10).status(),
            400
        );
    }

    #[test]
    fn replies_are_sent_as_they_are() -> Result<(), Box<dyn std::error::Error>> {
        for (reply, status, body) in [
            (
                Reply::from(Error::PayloadTooLarge { limit: 10 }),
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"error":"payload_too_large"}"#,
            ),
            (Reply::duplicate(), StatusCode::OK, r#"{"duplicate":true}"#),
            (
                Reply::from(Error::DeliveryInFlight),
                StatusCode::CONFLICT,
                r#"{"error":"delivery_in_flight"}"#,
            ),
        ] {
            let response = reply_response(&reply);
            assert_eq!(response.status(), status);
            assert_eq!(
                response
                    .headers()
                    .get(HeaderName::from_static("content-type")),
                Some(&HeaderValue::from_static("application/json"))
            );
            let sent = response
                .into_body()
                .try_into_bytes()
                .map_err(|_| "streamed body")?;
            assert_eq!(sent, body);
        }
        Ok(())
    }
}
