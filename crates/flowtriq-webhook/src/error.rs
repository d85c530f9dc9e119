//! The one error type every adapter maps to a response.

use std::fmt;

use crate::{PayloadError, SignatureError};

/// Why a delivery was rejected.
///
/// Each variant has a stable machine-readable [`code`](Self::code) and the HTTP
/// [`status`](Self::status) every adapter answers with. Neither `Display` nor `Debug` ever
/// contains a secret or the expected signature.
///
/// ```
/// use flowtriq_webhook::{Secret, Verifier};
///
/// let verifier = Verifier::new(Secret::new("secret"));
/// let error = verifier.verify(None, br#"{"event_type":"test"}"#.as_slice()).unwrap_err();
/// assert_eq!(error.code(), "missing_signature");
/// assert_eq!(error.status(), 401);
/// assert_eq!(error.response_body(), r#"{"error":"missing_signature"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The signature header is missing or malformed.
    Signature(SignatureError),
    /// The signature is well formed but matches none of the configured secrets.
    SignatureMismatch {
        /// Length of the body that was verified, to compare with what the sender sent.
        body_len: usize,
        /// How many secrets were tried.
        secrets: usize,
        /// Whether a configured secret has leading or trailing whitespace.
        secret_has_whitespace: bool,
    },
    /// The body is longer than the configured limit.
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body could not be read to the end (the client went away, or the transport failed).
    BodyRead(String),
    /// The signature is valid but the body is not a valid Flowtriq event.
    InvalidPayload(PayloadError),
    /// The replay window is enabled and the event's `timestamp` lies outside it.
    TimestampOutsideWindow {
        /// How far the timestamp is from now, in whole seconds (negative: in the future).
        age_secs: i64,
        /// The window in seconds.
        window_secs: u64,
    },
    /// The replay window is enabled and the event has no `timestamp`.
    MissingTimestamp,
    /// The delivery store holds the same delivery, still being handled by another request.
    DeliveryInFlight,
    /// The delivery store could not be reached and the receiver fails closed.
    StoreUnavailable(String),
}

impl Error {
    /// Stable machine-readable code, such as `signature_mismatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Signature(e) => e.code(),
            Self::SignatureMismatch { .. } => "signature_mismatch",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BodyRead(_) => "body_read_failed",
            Self::InvalidPayload(_) => "invalid_payload",
            Self::TimestampOutsideWindow { .. } => "timestamp_outside_window",
            Self::MissingTimestamp => "missing_timestamp",
            Self::DeliveryInFlight => "delivery_in_flight",
            Self::StoreUnavailable(_) => "store_unavailable",
        }
    }

    /// The HTTP status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Signature(_)
            | Self::SignatureMismatch { .. }
            | Self::TimestampOutsideWindow { .. }
            | Self::MissingTimestamp => 401,
            Self::PayloadTooLarge { .. } => 413,
            Self::InvalidPayload(_) | Self::BodyRead(_) => 400,
            Self::DeliveryInFlight => 409,
            Self::StoreUnavailable(_) => 503,
        }
    }

    /// Records the rejection as a `tracing` warning with its code and status.
    ///
    /// The [`Verifier`](crate::Verifier) logs its own rejections; adapters call this for the
    /// ones they find themselves (a body that could not be read).
    pub fn log(&self) {
        tracing::warn!(
            reason = self.code(),
            status = self.status(),
            "rejected Flowtriq webhook: {self}"
        );
    }

    /// The short JSON response body, `{"error":"<code>"}`.
    pub fn response_body(&self) -> String {
        format!(r#"{{"error":"{}"}}"#, self.code())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signature(e) => e.fmt(f),
            Self::SignatureMismatch {
                body_len,
                secrets,
                secret_has_whitespace,
            } => {
                write!(
                    f,
                    "the signature matches none of the {secrets} configured secret(s) for this \
                     {body_len}-byte body; check the secret in the Flowtriq dashboard, and that \
                     nothing re-encodes, re-serializes or decompresses the body before verification"
                )?;
                if *secret_has_whitespace {
                    f.write_str(
                        "; note: a configured secret has leading or trailing whitespace \
                         (copied with a newline?)",
                    )?;
                }
                Ok(())
            }
            Self::PayloadTooLarge { limit } => write!(
                f,
                "the body is larger than the {limit}-byte limit; raise the limit if Flowtriq \
                 legitimately sends larger events"
            ),
            Self::BodyRead(reason) => write!(f, "the request body could not be read: {reason}"),
            Self::InvalidPayload(e) => e.fmt(f),
            Self::TimestampOutsideWindow {
                age_secs,
                window_secs,
            } => write!(
                f,
                "the event timestamp is {age_secs}s away from now, outside the {window_secs}s \
                 replay window; check the receiver's clock if genuine events are refused"
            ),
            Self::MissingTimestamp => f.write_str(
                "the replay window is enabled but the event has no `timestamp` to check",
            ),
            Self::DeliveryInFlight => f.write_str(
                "the same delivery is being handled by another request; Flowtriq will retry",
            ),
            Self::StoreUnavailable(reason) => write!(
                f,
                "the delivery store is unavailable ({reason}); refusing so that Flowtriq retries"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Signature(e) => Some(e),
            Self::InvalidPayload(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SignatureError> for Error {
    fn from(e: SignatureError) -> Self {
        Self::Signature(e)
    }
}

impl From<PayloadError> for Error {
    fn from(e: PayloadError) -> Self {
        Self::InvalidPayload(e)
    }
}
