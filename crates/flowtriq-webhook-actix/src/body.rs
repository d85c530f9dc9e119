//! Reading the payload under the limit and verifying it: the one path shared by the middleware
//! and the extractor.

use actix_web::{
    HttpResponse,
    dev::Payload,
    error::PayloadError,
    http::{
        StatusCode,
        header::{self, HeaderMap, HeaderValue},
    },
};
use flowtriq_webhook::{Error, SIGNATURE_HEADER, VerifiedEvent, Verifier};
use futures_util::StreamExt as _;

/// Reads `payload` under the verifier's limit and verifies it against the signature in
/// `headers`.
pub(crate) async fn verify_payload(
    verifier: &Verifier,
    headers: &HeaderMap,
    payload: Payload,
) -> Result<VerifiedEvent, Error> {
    let body = read_payload(verifier, content_length(headers), payload).await?;
    let signature = headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes);
    verifier.verify(signature, body)
}

/// Collects the payload, refusing a declared length above the limit before reading and a
/// streamed one at limit + 1 byte. A body arriving in one chunk is passed on without a copy.
async fn read_payload(
    verifier: &Verifier,
    content_length: Option<u64>,
    mut payload: Payload,
) -> Result<actix_web::web::Bytes, Error> {
    let mut buffer = verifier.body_buffer(content_length)?;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| read_error(&e, verifier.body_limit()))?;
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

/// The response for a rejection: its status, `application/json` and `{"error":"<code>"}`.
pub(crate) fn rejection_response(error: &Error) -> HttpResponse {
    HttpResponse::build(status(error))
        .content_type("application/json")
        .body(error.response_body())
}

pub(crate) fn status(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
    fn rejections_are_json_with_the_error_status() -> Result<(), Box<dyn std::error::Error>> {
        let response = rejection_response(&Error::PayloadTooLarge { limit: 10 });
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            response
                .headers()
                .get(HeaderName::from_static("content-type")),
            Some(&HeaderValue::from_static("application/json"))
        );
        let body = response
            .into_body()
            .try_into_bytes()
            .map_err(|_| "streamed body")?;
        assert_eq!(body, r#"{"error":"payload_too_large"}"#);
        Ok(())
    }
}
