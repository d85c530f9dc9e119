//! [`Receiver`]: verification and de-duplication as one step, the flow every adapter runs.

use bytes::Bytes;
use tracing::{Level, Span, field::Empty};

use crate::{
    Begin, BodyBuffer, Deduplicator, DeliveryGuard, Error, VerifiedEvent, Verifier, telemetry,
};

/// Everything a receiving endpoint decides before the handler runs: verification and, when
/// configured, de-duplication of Flowtriq's retries.
///
/// Adapters read the body through [`body_buffer`](Self::body_buffer), call
/// [`admit`](Self::admit), run the handler with the admitted event, then
/// [`finish`](DeliveryGuard::finish) the guard with the handler's status. Everything else is a
/// [`Reply`] they send as it is.
///
/// ```
/// # futures_executor::block_on(async {
/// use flowtriq_webhook::{sign, Deduplicator, Receiver, Secret, Verifier};
///
/// let receiver = Receiver::new(Verifier::new("secret")).with_deduplicator(Deduplicator::in_memory());
/// let body = br#"{"event_type":"test"}"#;
/// let header = sign(&Secret::new("secret"), body);
///
/// let admitted = receiver.admit(Some(header.as_bytes()), body.as_slice().into()).await;
/// let (event, guard) = admitted.expect("a valid delivery");
/// assert_eq!(event.event_type.as_str(), "test");
/// guard.finish(200).await; // the handler answered 200
///
/// // Flowtriq retries the same delivery: it is answered without running the handler again.
/// let retry = receiver.admit(Some(header.as_bytes()), body.as_slice().into()).await;
/// let reply = retry.err().expect("a duplicate");
/// assert_eq!((reply.status, &reply.body[..]), (200, &br#"{"duplicate":true}"#[..]));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Receiver {
    verifier: Verifier,
    deduplicator: Option<Deduplicator>,
    span_level: Level,
}

/// An answer given instead of running the handler: a rejection or a duplicate delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// JSON body, such as `{"error":"signature_mismatch"}` or `{"duplicate":true}`.
    pub body: Bytes,
}

impl Reply {
    /// Content type of every reply body.
    pub const CONTENT_TYPE: &'static str = "application/json";

    /// The answer to a delivery that was handled already.
    pub fn duplicate() -> Self {
        Self {
            status: Deduplicator::DUPLICATE_STATUS,
            body: Bytes::from_static(Deduplicator::DUPLICATE_BODY.as_bytes()),
        }
    }
}

impl From<&Error> for Reply {
    fn from(error: &Error) -> Self {
        Self {
            status: error.status(),
            body: error.response_body().into(),
        }
    }
}

impl From<Error> for Reply {
    fn from(error: Error) -> Self {
        Self::from(&error)
    }
}

impl Receiver {
    /// A receiver that verifies with `verifier` and does not de-duplicate.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            deduplicator: None,
            span_level: Self::DEFAULT_SPAN_LEVEL,
        }
    }

    /// The level of the [delivery span](Self::delivery_span) unless
    /// [`with_span_level`](Self::with_span_level) says otherwise.
    ///
    /// `DEBUG`, as tower-http's `TraceLayer` makes its request spans: a subscriber formats a
    /// span's fields as they are recorded, whether or not anything is ever logged inside it,
    /// and at the usual `info` filter that cost would be paid on every delivery for nothing
    /// seen. Rejections are logged as `WARN` events of their own, span or not.
    pub const DEFAULT_SPAN_LEVEL: Level = Level::DEBUG;

    /// Sets the level of the [delivery span](Self::delivery_span).
    ///
    /// Raise it to `INFO` to see the delivery's fields (event type, incident, outcome) around
    /// what the handler logs at `info`.
    ///
    /// ```
    /// use flowtriq_webhook::{Receiver, Verifier};
    /// use tracing::Level;
    ///
    /// let receiver = Receiver::new(Verifier::new("secret")).with_span_level(Level::INFO);
    /// assert_eq!(receiver.span_level(), Level::INFO);
    /// ```
    pub fn with_span_level(mut self, level: Level) -> Self {
        self.span_level = level;
        self
    }

    /// The level of the [delivery span](Self::delivery_span).
    pub fn span_level(&self) -> Level {
        self.span_level
    }

    /// Answers retries of a delivery that was handled already with `200 {"duplicate":true}`
    /// and concurrent copies of one in flight with `409`, without running the handler.
    pub fn with_deduplicator(mut self, deduplicator: Deduplicator) -> Self {
        self.deduplicator = Some(deduplicator);
        self
    }

    /// Replaces the verifier.
    pub fn with_verifier(mut self, verifier: Verifier) -> Self {
        self.verifier = verifier;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The deduplicator, if any.
    pub fn deduplicator(&self) -> Option<&Deduplicator> {
        self.deduplicator.as_ref()
    }

    /// A buffer for the body under the verifier's limit; see [`Verifier::body_buffer`].
    pub fn body_buffer(&self, content_length: Option<u64>) -> Result<BodyBuffer, Error> {
        self.verifier.body_buffer(content_length)
    }

    /// A span for one delivery, at [`span_level`](Self::span_level). Adapters run the whole
    /// delivery, handler included, inside it; its fields are filled in as the delivery
    /// proceeds: `event_type`, `incident_id`, `secret_index` (which secret matched), `outcome`
    /// (`rejected`, `duplicate`, `handled`, `handler_failed`), `reason` (the rejection code)
    /// and `status`. Never the secret or the MAC.
    pub fn delivery_span(&self) -> Span {
        // A span's level must be a constant at its call site: one call site per level.
        macro_rules! delivery_span {
            ($level:expr) => {
                tracing::span!(
                    $level,
                    "flowtriq_webhook_delivery",
                    event_type = Empty,
                    incident_id = Empty,
                    secret_index = Empty,
                    outcome = Empty,
                    reason = Empty,
                    status = Empty,
                )
            };
        }
        match self.span_level {
            Level::ERROR => delivery_span!(Level::ERROR),
            Level::WARN => delivery_span!(Level::WARN),
            Level::INFO => delivery_span!(Level::INFO),
            Level::DEBUG => delivery_span!(Level::DEBUG),
            _ => delivery_span!(Level::TRACE),
        }
    }

    /// Verifies the delivery and, with a deduplicator, reserves it.
    ///
    /// `Ok` carries the event and a guard to [`finish`](DeliveryGuard::finish) with the
    /// handler's status (a guard dropped unfinished releases the delivery, so a retry is
    /// handled afresh). `Err` carries what to answer instead of running the handler.
    pub async fn admit(
        &self,
        signature: Option<&[u8]>,
        body: Bytes,
    ) -> Result<(VerifiedEvent, DeliveryGuard), Reply> {
        let event = telemetry::timed_verification(|| self.verifier.verify(signature, body))
            .map_err(|error| self.reject(&error))?;
        let span = Span::current();
        span.record("event_type", event.event_type.as_str());
        if let Some(id) = event.incident_id() {
            span.record("incident_id", id);
        }
        span.record("secret_index", event.secret_index());
        let Some(deduplicator) = &self.deduplicator else {
            return Ok((event, DeliveryGuard::untracked()));
        };
        match deduplicator.begin(&event).await {
            Ok(Begin::Proceed(guard)) => Ok((event, guard)),
            Ok(Begin::Duplicate) => {
                let reply = Reply::duplicate();
                telemetry::outcome("duplicate", None, reply.status);
                Err(reply)
            }
            Err(error) => Err(self.reject(&error)),
        }
    }

    /// The reply to a rejection, recorded on the delivery's span and in the metrics. Adapters
    /// call it for what they find before [`admit`](Self::admit), such as a body over the
    /// limit.
    pub fn reject(&self, error: &Error) -> Reply {
        telemetry::outcome("rejected", Some(error.code()), error.status());
        Reply::from(error)
    }
}

impl From<Verifier> for Receiver {
    fn from(verifier: Verifier) -> Self {
        Self::new(verifier)
    }
}
