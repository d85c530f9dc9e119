//! Delivery de-duplication: the store trait, its in-memory implementation, and the
//! [`Deduplicator`] every adapter calls.
//!
//! Flowtriq retries a delivery that got no 2xx answer within 10 s. A handler that finishes
//! after that timeout therefore sees the same event again. A delivery is identified by its
//! verified MAC ([`VerifiedEvent::signature`]): retries carry the same body and so the same
//! MAC. A [`DeliveryStore`] records, per [`DeliveryKey`], whether a delivery is unknown, being
//! handled (in flight, under a [`Lease`]) or handled.

mod dedup;
mod memory;

use std::{fmt, future::Future, pin::Pin, time::Duration};

pub use dedup::{Begin, Deduplicator, DeliveryGuard};
pub use memory::MemoryStore;

use crate::{MAC_LEN, Signature, VerifiedEvent};

/// Identifies one delivery: the SHA-256 of the HMAC-SHA256 tag Flowtriq computed over the
/// body. A retry carries the same body and so the same key; the key never shows the tag.
///
/// `Display` gives 64 lower-case hex digits, suitable as (part of) a key in an external store.
///
/// ```
/// use flowtriq_webhook::{DeliveryKey, Secret, Signature};
///
/// let body = br#"{"event_type":"test"}"#;
/// let signature = Signature::compute(&Secret::new("secret"), body);
/// let retry = Signature::compute(&Secret::new("secret"), body);
/// assert_eq!(DeliveryKey::from(&signature), DeliveryKey::from(&retry));
/// assert_ne!(DeliveryKey::from(&signature).to_string(), signature.to_hex());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey([u8; MAC_LEN]);

impl DeliveryKey {
    /// A key from raw bytes, for stores that read keys back and for tests.
    pub const fn from_bytes(bytes: [u8; MAC_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; MAC_LEN] {
        &self.0
    }
}

impl From<&Signature> for DeliveryKey {
    /// The SHA-256 of the verified MAC: it identifies the delivery as well as the MAC does,
    /// and keys, logs and store contents never show the MAC itself.
    fn from(signature: &Signature) -> Self {
        use sha2::Digest;
        Self(sha2::Sha256::digest(signature.as_bytes()).into())
    }
}

impl From<&VerifiedEvent> for DeliveryKey {
    fn from(event: &VerifiedEvent) -> Self {
        Self::from(event.signature())
    }
}

impl fmt::Display for DeliveryKey {
    /// 64 lower-case hex digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; MAC_LEN * 2];
        // The buffer is exactly twice the key, so encoding cannot fail.
        let hex = base16ct::lower::encode_str(&self.0, &mut out).map_err(|_| fmt::Error)?;
        f.write_str(hex)
    }
}

impl fmt::Debug for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveryKey({self})")
    }
}

/// Proof of a reservation: the token a store handed out when it moved a key to in flight.
///
/// [`complete`](DeliveryStore::complete) and [`release`](DeliveryStore::release) only act
/// while the key still holds this token, so a worker whose lease ran out never completes or
/// releases a reservation that another request has taken since. A lease is deliberately not
/// `Clone`: it belongs to the one request that acquired it.
#[derive(PartialEq, Eq, Hash)]
pub struct Lease {
    token: u128,
}

impl Lease {
    /// A lease holding `token`. Stores create these in
    /// [`reserve`](DeliveryStore::reserve); tokens must be unique among the reservations a
    /// store can hold at once (random, or a counter for a store in one process).
    pub const fn new(token: u128) -> Self {
        Self { token }
    }

    /// The token.
    pub const fn token(&self) -> u128 {
        self.token
    }
}

impl fmt::Debug for Lease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lease({:032x})", self.token)
    }
}

/// The answer of [`DeliveryStore::reserve`].
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Reservation {
    /// The key was unknown and is now in flight under this lease: handle the delivery, then
    /// [`complete`](DeliveryStore::complete) or [`release`](DeliveryStore::release) it.
    Acquired(Lease),
    /// The delivery was handled already (answered with a 2xx): do not handle it again.
    AlreadyHandled,
    /// Another request holds the delivery and has not finished yet.
    InFlight,
}

/// A delivery store could not do what was asked: unreachable, timed out, or refused.
///
/// The `Display` text is the message alone; it becomes the reason of
/// [`Error::StoreUnavailable`](crate::Error::StoreUnavailable) and ends up in logs, so
/// implementations must never put a password, a connection string or other secret in it.
/// The underlying error, if any, is available through
/// [`source`](std::error::Error::source).
///
/// ```
/// use flowtriq_webhook::StoreError;
///
/// let error = StoreError::with_source(
///     "redis: connection refused",
///     std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
/// );
/// assert_eq!(error.to_string(), "redis: connection refused");
/// assert!(std::error::Error::source(&error).is_some());
/// ```
#[derive(Debug)]
pub struct StoreError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error with a message and no underlying cause.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and the underlying cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The message, as `Display` shows it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The boxed future every [`DeliveryStore`] method returns, so the trait stays
/// dyn-compatible without an extra crate.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where deliveries are recorded: unknown → in flight → handled (or back to unknown).
///
/// Every transition is atomic, so two requests carrying the same delivery never both get
/// [`Reservation::Acquired`]. In-flight entries expire after their lease, so a crashed worker
/// does not block a delivery forever; handled entries expire after their TTL, so the store
/// stays bounded.
///
/// Adapters hold an `Arc<dyn DeliveryStore>` and go through a [`Deduplicator`] rather than
/// calling these methods themselves. The crate ships [`MemoryStore`]; the
/// `flowtriq-webhook-redis` crate shares state between replicas.
pub trait DeliveryStore: Send + Sync + 'static {
    /// Atomically moves an unknown `key` to in flight for `lease`, and reports what it found.
    ///
    /// When the lease runs out before [`complete`](Self::complete) or
    /// [`release`](Self::release), the key is unknown again.
    fn reserve(&self, key: DeliveryKey, lease: Duration) -> StoreFuture<'_, Reservation>;

    /// Marks the delivery as handled and keeps that record for `ttl`.
    ///
    /// Acts only while `key` is in flight under `lease`, or no longer known at all (the lease
    /// ran out and nobody reserved the key since: the delivery was still handled). Returns
    /// whether the delivery is now recorded as handled by this call; `false` means another
    /// request holds or handled the key.
    fn complete<'a>(
        &'a self,
        key: DeliveryKey,
        lease: &'a Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;

    /// Forgets the in-flight delivery, so that Flowtriq's next retry is handled afresh.
    ///
    /// Acts only while `key` is in flight under `lease`; returns whether it did.
    fn release<'a>(&'a self, key: DeliveryKey, lease: &'a Lease) -> StoreFuture<'a, bool>;

    /// [`release`](Self::release) without waiting, for `Drop` (a request that was cancelled
    /// or panicked). An implementation may do it synchronously or spawn it; if it can do
    /// neither, the lease simply runs out.
    fn release_detached(&self, key: DeliveryKey, lease: Lease);
}

#[cfg(test)]
pub(crate) mod testing {
    //! Drives the store futures in unit tests without an async runtime.

    use std::{
        future::Future,
        pin::pin,
        task::{Context, Poll, Waker},
    };

    /// Polls `future` to completion with a no-op waker. Only for futures that never wait on
    /// an external event, like the in-memory store's.
    pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            std::thread::yield_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;

    #[test]
    fn key_is_hex_and_never_the_signature() {
        let signature = Signature::compute(&Secret::new("k"), b"body");
        let key = DeliveryKey::from(&signature);
        assert_eq!(key.to_string().len(), 64);
        assert_ne!(key.to_string(), signature.to_hex());
        assert_eq!(format!("{key:?}"), format!("DeliveryKey({key})"));
        assert_eq!(DeliveryKey::from_bytes(*key.as_bytes()), key);
    }

    #[test]
    fn key_from_verified_event_is_the_key_of_its_signature() {
        let secret = Secret::new("k");
        let body = br#"{"event_type":"test"}"#;
        let header = crate::sign(&secret, body);
        let verified = crate::Verifier::new(secret)
            .verify(Some(header.as_bytes()), body.as_slice())
            .ok();
        let key = verified.as_ref().map(DeliveryKey::from);
        let signature = Signature::parse(header.as_bytes()).ok();
        assert!(key.is_some());
        assert_eq!(key, signature.as_ref().map(DeliveryKey::from));
    }

    #[test]
    fn store_error_displays_only_its_message() {
        let error = StoreError::with_source("store down", std::io::Error::other("detail"));
        assert_eq!(error.to_string(), "store down");
        assert_eq!(error.message(), "store down");
        assert_eq!(
            std::error::Error::source(&error).map(ToString::to_string),
            Some("detail".to_owned())
        );
        assert!(std::error::Error::source(&StoreError::new("x")).is_none());
    }

    #[test]
    fn lease_debug_shows_the_token_in_hex() {
        assert_eq!(
            format!("{:?}", Lease::new(0xab)),
            format!("Lease({:032x})", 0xab)
        );
        assert_eq!(Lease::new(7).token(), 7);
    }
}
