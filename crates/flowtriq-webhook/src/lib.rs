//! Verify and parse [Flowtriq](https://flowtriq.com) webhooks.
//!
//! Flowtriq POSTs a JSON event for each DDoS incident change and signs the raw body with
//! HMAC-SHA256: `X-Flowtriq-Signature: sha256=<hex>`. This crate checks that signature over the
//! exact bytes received, enforces a body limit, parses the event leniently into types, and
//! reports every rejection with a stable code and HTTP status. It has no web framework and no
//! async runtime: the `flowtriq-webhook-tower`, `-actix` and `-warp` crates wrap it.
//!
//! Flowtriq retries a delivery that got no 2xx answer within 10 s, so a slow handler sees the
//! same event again. A [`Deduplicator`] over a [`DeliveryStore`] ([`MemoryStore`] here, or the
//! Redis store of `flowtriq-webhook-redis`) runs each delivery's handler at most once to
//! success.
//!
//! ```
//! use flowtriq_webhook::{sign, EventType, Secret, Verifier};
//!
//! let verifier = Verifier::new(Secret::new("my-webhook-secret"));
//!
//! // What Flowtriq sends:
//! let body = br#"{"event_type":"attack_start","incident":{"id":147,"severity":"critical"}}"#;
//! let header = sign(&Secret::new("my-webhook-secret"), body);
//!
//! // What a receiver does with the raw header value and the raw body:
//! let event = verifier.verify(Some(header.as_bytes()), body.as_slice())?;
//! assert_eq!(event.event_type, EventType::AttackStart);
//! assert_eq!(event.incident_id(), Some(147));
//!
//! // A forged delivery is refused with 401:
//! let forged = verifier.verify(Some(b"sha256=00"), body.as_slice()).unwrap_err();
//! assert_eq!(forged.status(), 401);
//! # Ok::<(), flowtriq_webhook::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod error;
mod event;
mod receiver;
mod secret;
mod signature;
mod store;
mod telemetry;
mod verifier;

pub use body::BodyBuffer;
pub use error::Error;
pub use event::{AttackFamily, Event, EventType, Incident, Node, PayloadError, Severity};
pub use receiver::{Receiver, Reply};
pub use secret::Secret;
pub use signature::{MAC_LEN, SIGNATURE_HEADER, Signature, SignatureError, sign};
pub use store::{
    Begin, Deduplicator, DeliveryGuard, DeliveryKey, DeliveryStore, Lease, MemoryStore,
    Reservation, StoreError, StoreFuture,
};
pub use verifier::{DEFAULT_BODY_LIMIT, VerifiedEvent, Verifier};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
