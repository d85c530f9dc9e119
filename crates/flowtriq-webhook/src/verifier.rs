//! The single verification entry point every adapter calls.

use std::{fmt, ops::Deref, sync::Arc, time::Duration};

use bytes::Bytes;
use hmac::Mac;
use time::OffsetDateTime;

use crate::{
    BodyBuffer, Error, Event, Secret, Signature,
    signature::{HmacSha256, keyed},
};

/// Default body limit: 1 MiB. A body of exactly this many bytes is accepted.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Verifies deliveries: signature over the raw body, body limit, event parsing and the
/// optional replay window.
///
/// Each secret is pre-keyed once, so a request costs one HMAC pass over the body and no key
/// setup. Cloning is cheap (the keys are shared).
///
/// ```
/// use flowtriq_webhook::{sign, EventType, Secret, Verifier};
///
/// let verifier = Verifier::new(Secret::new("current"))
///     .with_secret(Secret::new("previous")); // rotation: either one verifies
///
/// let body = br#"{"event_type":"attack_start","incident":{"id":147}}"#;
/// let header = sign(&Secret::new("previous"), body);
///
/// let verified = verifier.verify(Some(header.as_bytes()), body.as_slice())?;
/// assert_eq!(verified.event_type, EventType::AttackStart);
/// assert_eq!(verified.secret_index(), 1); // the old secret is still in use
/// assert_eq!(verified.body().as_ref(), body);
/// # Ok::<(), flowtriq_webhook::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Arc<[Key]>,
    body_limit: usize,
    replay_window: Option<Duration>,
}

#[derive(Clone)]
struct Key {
    /// HMAC state with the key already absorbed: cloned per request.
    mac: HmacSha256,
    has_whitespace: bool,
}

impl Key {
    fn new(secret: &Secret) -> Self {
        Self {
            mac: keyed(secret.expose()),
            has_whitespace: secret.has_surrounding_whitespace(),
        }
    }
}

impl Verifier {
    /// A verifier for one secret, with the default 1 MiB body limit and no replay window.
    pub fn new(secret: impl Into<Secret>) -> Self {
        Self {
            keys: Arc::new([Key::new(&secret.into())]),
            body_limit: DEFAULT_BODY_LIMIT,
            replay_window: None,
        }
    }

    /// Adds another accepted secret, for rotation; the first secret is index 0.
    pub fn with_secret(mut self, secret: impl Into<Secret>) -> Self {
        let mut keys = self.keys.to_vec();
        keys.push(Key::new(&secret.into()));
        self.keys = keys.into();
        self
    }

    /// Sets the largest accepted body in bytes.
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Refuses events whose `timestamp` is further than `window` from now, in the past or the
    /// future. Events without a timestamp are refused too while the window is on.
    pub fn with_replay_window(mut self, window: Duration) -> Self {
        self.replay_window = Some(window);
        self
    }

    /// The largest accepted body in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The replay window, if enabled.
    pub fn replay_window(&self) -> Option<Duration> {
        self.replay_window
    }

    /// How many secrets are accepted.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// A buffer for the body under this verifier's limit; refuses an oversized
    /// `Content-Length` before anything is read.
    pub fn body_buffer(&self, content_length: Option<u64>) -> Result<BodyBuffer, Error> {
        BodyBuffer::new(self.body_limit, content_length)
    }

    /// Verifies a delivery: the raw `X-Flowtriq-Signature` value (or `None` when absent) and
    /// the exact raw body.
    ///
    /// Order matters: the size and the signature are checked before any parsing, so an
    /// unauthenticated body is never parsed. Every rejection is logged as a `tracing` event
    /// naming the reason, never the secret or the expected signature.
    pub fn verify(
        &self,
        signature: Option<&[u8]>,
        body: impl Into<Bytes>,
    ) -> Result<VerifiedEvent, Error> {
        self.verify_at(signature, body.into(), OffsetDateTime::now_utc())
    }

    /// Checks only the signature over `body`: no body limit, no parsing, no replay window.
    /// Returns the index of the secret that matched.
    ///
    /// For tools and for receivers that parse the body into their own types; a web endpoint
    /// wants [`verify`](Self::verify).
    ///
    /// ```
    /// use flowtriq_webhook::{sign, Secret, Verifier};
    ///
    /// let verifier = Verifier::new("secret");
    /// let header = sign(&Secret::new("secret"), b"any bytes at all");
    /// assert_eq!(verifier.verify_signature(Some(header.as_bytes()), b"any bytes at all"), Ok(0));
    /// ```
    pub fn verify_signature(&self, signature: Option<&[u8]>, body: &[u8]) -> Result<usize, Error> {
        Signature::parse_header(signature)
            .map_err(Error::from)
            .and_then(|signature| self.matching_key(&signature, body))
            .inspect_err(Error::log)
    }

    /// [`verify`](Self::verify) with an explicit clock, for the replay window.
    pub fn verify_at(
        &self,
        signature: Option<&[u8]>,
        body: Bytes,
        now: OffsetDateTime,
    ) -> Result<VerifiedEvent, Error> {
        self.check(signature, body, now).inspect_err(Error::log)
    }

    fn check(
        &self,
        signature: Option<&[u8]>,
        body: Bytes,
        now: OffsetDateTime,
    ) -> Result<VerifiedEvent, Error> {
        if body.len() > self.body_limit {
            return Err(Error::PayloadTooLarge {
                limit: self.body_limit,
            });
        }
        let signature = Signature::parse_header(signature)?;
        let secret_index = self.matching_key(&signature, &body)?;
        let event = Event::from_slice(&body)?;
        self.check_replay_window(&event, now)?;
        Ok(VerifiedEvent {
            event: Arc::new(event),
            body,
            signature,
            secret_index,
        })
    }

    /// Index of the first secret whose MAC over `body` equals `signature`, compared in
    /// constant time.
    fn matching_key(&self, signature: &Signature, body: &[u8]) -> Result<usize, Error> {
        self.keys
            .iter()
            .position(|key| {
                let mut mac = key.mac.clone();
                mac.update(body);
                signature.is(&mac.finalize().into_bytes().into())
            })
            .ok_or_else(|| Error::SignatureMismatch {
                body_len: body.len(),
                secrets: self.keys.len(),
                secret_has_whitespace: self.keys.iter().any(|key| key.has_whitespace),
            })
    }

    fn check_replay_window(&self, event: &Event, now: OffsetDateTime) -> Result<(), Error> {
        let Some(window) = self.replay_window else {
            return Ok(());
        };
        let timestamp = event.timestamp.ok_or(Error::MissingTimestamp)?;
        let age = now - timestamp;
        if age.unsigned_abs() > window {
            return Err(Error::TimestampOutsideWindow {
                age_secs: age.whole_seconds(),
                window_secs: window.as_secs(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &format_args!("<{} redacted>", self.keys.len()))
            .field("body_limit", &self.body_limit)
            .field("replay_window", &self.replay_window)
            .finish()
    }
}

/// An event whose signature has been verified, with the exact bytes that were verified.
///
/// Derefs to [`Event`]; [`body`](Self::body) gives the raw body, to parse into a type of your
/// own. Cloning is cheap: the event and the body are shared, not copied (extractors hand each
/// handler a clone of the one the middleware verified).
#[derive(Debug, Clone)]
pub struct VerifiedEvent {
    event: Arc<Event>,
    body: Bytes,
    signature: Signature,
    secret_index: usize,
}

impl VerifiedEvent {
    /// The typed event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The exact raw body that was verified.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Index of the secret that matched, in the order they were configured; a delivery still
    /// signed with an old secret shows that the old one cannot be retired yet.
    pub fn secret_index(&self) -> usize {
        self.secret_index
    }

    /// The verified signature, which identifies the delivery: Flowtriq's retries of one
    /// delivery carry the same body and so the same signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The event and the raw body. The event is copied only if a clone of this
    /// `VerifiedEvent` is still alive.
    pub fn into_parts(self) -> (Event, Bytes) {
        (Arc::unwrap_or_clone(self.event), self.body)
    }
}

impl Deref for VerifiedEvent {
    type Target = Event;

    fn deref(&self) -> &Event {
        &self.event
    }
}
