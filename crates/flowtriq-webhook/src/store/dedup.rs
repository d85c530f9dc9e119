//! The de-duplication step every adapter runs between verification and the handler.

use std::{fmt, sync::Arc, time::Duration};

use super::{DeliveryKey, DeliveryStore, Lease, MemoryStore, Reservation};
use crate::{Error, VerifiedEvent};

/// Runs each delivery's handler at most once to success, whatever Flowtriq retries.
///
/// Call [`begin`](Self::begin) with the verified event before the handler:
/// - [`Begin::Proceed`]: run the handler, then hand its status to
///   [`DeliveryGuard::finish`]. A 2xx records the delivery as handled for the TTL; anything
///   else forgets it so that Flowtriq's retry runs the handler again.
/// - [`Begin::Duplicate`]: the delivery was handled already; answer
///   [`DUPLICATE_STATUS`](Self::DUPLICATE_STATUS) with
///   [`DUPLICATE_BODY`](Self::DUPLICATE_BODY) without running the handler.
/// - `Err(`[`Error::DeliveryInFlight`]`)`: another request is handling it (`409`).
/// - `Err(`[`Error::StoreUnavailable`]`)`: the store failed and the deduplicator fails closed
///   (`503`, so Flowtriq retries). With [`with_fail_open(true)`](Self::with_fail_open) the
///   handler runs instead, without de-duplication.
///
/// Defaults: lease 30 s (how long a delivery stays in flight if its request never finishes),
/// TTL 24 h (how long a handled delivery is remembered; Flowtriq's last retry comes about
/// 6 minutes after the first attempt), fail closed. Cloning is cheap: the store is shared.
///
/// ```
/// use std::sync::Arc;
/// use flowtriq_webhook::{sign, Begin, Deduplicator, Error, MemoryStore, Secret, Verifier};
///
/// /// What an adapter does around the handler; returns the status and body to send.
/// async fn receive(
///     verifier: &Verifier,
///     dedup: &Deduplicator,
///     header: &str,
///     body: &'static [u8],
/// ) -> Result<(u16, String), Error> {
///     let event = verifier.verify(Some(header.as_bytes()), body)?;
///     let guard = match dedup.begin(&event).await? {
///         Begin::Proceed(guard) => guard,
///         Begin::Duplicate => {
///             return Ok((Deduplicator::DUPLICATE_STATUS, Deduplicator::DUPLICATE_BODY.into()));
///         }
///     };
///     let (status, response) = (200, format!("handled {}", event.event_type.as_str()));
///     guard.finish(status).await;
///     Ok((status, response))
/// }
///
/// # fn main() -> Result<(), Error> {
/// let secret = Secret::new("secret");
/// let verifier = Verifier::new(secret.clone());
/// let dedup = Deduplicator::new(Arc::new(MemoryStore::new()));
/// let body = br#"{"event_type":"test"}"#;
/// let header = sign(&secret, body);
///
/// let first = block_on(receive(&verifier, &dedup, &header, body))?;
/// assert_eq!(first, (200, "handled test".to_owned()));
/// let retry = block_on(receive(&verifier, &dedup, &header, body))?;
/// assert_eq!(retry, (200, r#"{"duplicate":true}"#.to_owned()));
/// # Ok(())
/// # }
/// # // The in-memory store never waits, so polling with a no-op waker is enough here.
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     let mut future = std::pin::pin!(future);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop {
/// #         if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
/// #             return out;
/// #         }
/// #     }
/// # }
/// ```
#[derive(Clone)]
pub struct Deduplicator {
    store: Arc<dyn DeliveryStore>,
    lease: Duration,
    ttl: Duration,
    fail_open: bool,
}

impl Deduplicator {
    /// Default lease: how long a delivery stays in flight when its request never finishes.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
    /// Default TTL: how long a handled delivery is remembered.
    pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
    /// Status of the answer to a delivery that was handled already.
    pub const DUPLICATE_STATUS: u16 = 200;
    /// Body of the answer to a delivery that was handled already.
    pub const DUPLICATE_BODY: &'static str = r#"{"duplicate":true}"#;
    /// Content type of [`DUPLICATE_BODY`](Self::DUPLICATE_BODY).
    pub const DUPLICATE_CONTENT_TYPE: &'static str = "application/json";

    /// A deduplicator over `store`, with the default lease and TTL, failing closed.
    pub fn new(store: Arc<dyn DeliveryStore>) -> Self {
        Self {
            store,
            lease: Self::DEFAULT_LEASE,
            ttl: Self::DEFAULT_TTL,
            fail_open: false,
        }
    }

    /// A deduplicator over a new [`MemoryStore`] with its default bound.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(MemoryStore::new()))
    }

    /// Sets how long a delivery stays in flight when its request never finishes. Make it
    /// longer than the slowest handler: a handler still running when its lease ends lets a
    /// retry run concurrently.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Sets how long a handled delivery is remembered.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// When `true`, a store failure lets the handler run without de-duplication instead of
    /// answering `503`.
    pub fn with_fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn DeliveryStore> {
        &self.store
    }

    /// The lease.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// The TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether a store failure lets the handler run.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    /// Reserves the delivery `event` belongs to, before its handler runs.
    ///
    /// # Errors
    ///
    /// [`Error::DeliveryInFlight`] while another request handles the same delivery;
    /// [`Error::StoreUnavailable`] when the store fails, unless fail-open is set.
    pub async fn begin(&self, event: &VerifiedEvent) -> Result<Begin, Error> {
        self.begin_inner(DeliveryKey::from(event), event.event_type.as_str())
            .await
    }

    /// [`begin`](Self::begin) for a key computed elsewhere.
    ///
    /// # Errors
    ///
    /// As for [`begin`](Self::begin).
    pub async fn begin_key(&self, key: DeliveryKey) -> Result<Begin, Error> {
        self.begin_inner(key, "").await
    }

    async fn begin_inner(&self, key: DeliveryKey, event_type: &str) -> Result<Begin, Error> {
        match self.store.reserve(key, self.lease).await {
            Ok(Reservation::Acquired(lease)) => Ok(Begin::Proceed(DeliveryGuard {
                held: Some(Held {
                    store: Arc::clone(&self.store),
                    key,
                    lease,
                    ttl: self.ttl,
                }),
            })),
            Ok(Reservation::AlreadyHandled) => {
                tracing::info!(
                    delivery = %key,
                    event_type,
                    "duplicate Flowtriq delivery, handled already; answering without running \
                     the handler"
                );
                Ok(Begin::Duplicate)
            }
            Ok(Reservation::InFlight) => {
                let error = Error::DeliveryInFlight;
                tracing::info!(
                    delivery = %key,
                    event_type,
                    reason = error.code(),
                    status = error.status(),
                    "duplicate Flowtriq delivery, still being handled by another request"
                );
                Err(error)
            }
            Err(store_error) if self.fail_open => {
                tracing::warn!(
                    delivery = %key,
                    event_type,
                    error = %store_error,
                    "delivery store failed; failing open, the handler runs without \
                     de-duplication"
                );
                Ok(Begin::Proceed(DeliveryGuard::untracked()))
            }
            Err(store_error) => {
                let error = Error::StoreUnavailable(store_error.to_string());
                tracing::error!(
                    delivery = %key,
                    event_type,
                    reason = error.code(),
                    status = error.status(),
                    error = %store_error,
                    "delivery store failed; refusing the delivery so that Flowtriq retries"
                );
                Err(error)
            }
        }
    }
}

impl Default for Deduplicator {
    /// [`Deduplicator::in_memory`].
    fn default() -> Self {
        Self::in_memory()
    }
}

impl fmt::Debug for Deduplicator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deduplicator")
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

/// What [`Deduplicator::begin`] decided.
#[derive(Debug)]
#[must_use]
pub enum Begin {
    /// Run the handler, then call [`DeliveryGuard::finish`] with its status.
    Proceed(DeliveryGuard),
    /// Handled already: answer [`Deduplicator::DUPLICATE_STATUS`] with
    /// [`Deduplicator::DUPLICATE_BODY`] and do not run the handler.
    Duplicate,
}

/// Holds a delivery in flight while its handler runs.
///
/// [`finish`](Self::finish) records the outcome. Dropped without it (the request was cancelled
/// or the handler panicked), the delivery is released so that Flowtriq's retry runs the
/// handler again.
#[must_use = "call `finish` with the response status; dropping the guard forgets the delivery"]
pub struct DeliveryGuard {
    held: Option<Held>,
}

struct Held {
    store: Arc<dyn DeliveryStore>,
    key: DeliveryKey,
    lease: Lease,
    ttl: Duration,
}

impl DeliveryGuard {
    /// A guard that records nothing: what fail-open hands out, and what an adapter can use
    /// when de-duplication is off.
    pub fn untracked() -> Self {
        Self { held: None }
    }

    /// Whether this guard holds a reservation (`false` for [`untracked`](Self::untracked)).
    pub fn is_tracked(&self) -> bool {
        self.held.is_some()
    }

    /// The delivery this guard holds, if any.
    pub fn key(&self) -> Option<DeliveryKey> {
        self.held.as_ref().map(|held| held.key)
    }

    /// Records the handler's outcome: a 2xx `status` marks the delivery as handled, anything
    /// else forgets it so that a retry runs the handler again.
    ///
    /// Store failures are logged, not returned: the response goes out regardless. If this
    /// future is dropped before it completes, the delivery is released as on `Drop`.
    pub async fn finish(mut self, status: u16) {
        let handled = (200..300).contains(&status);
        let outcome = if handled { "handled" } else { "handler_failed" };
        crate::telemetry::outcome(outcome, None, status);
        let Some(held) = &self.held else {
            return;
        };
        let key = held.key;
        let outcome = if handled {
            held.store.complete(key, &held.lease, held.ttl).await
        } else {
            held.store.release(key, &held.lease).await
        };
        // Done: nothing left for Drop to release.
        self.held = None;
        match outcome {
            Ok(true) => {}
            Ok(false) if handled => tracing::warn!(
                delivery = %key,
                status,
                "the delivery's lease ran out and another request took it before this one \
                 finished; raise the deduplicator's lease above the slowest handler"
            ),
            Ok(false) => tracing::debug!(
                delivery = %key,
                status,
                "the delivery's lease ran out before it was released"
            ),
            Err(error) if handled => tracing::warn!(
                delivery = %key,
                status,
                error = %error,
                "could not record the delivery as handled; a retry may run the handler again"
            ),
            Err(error) => tracing::warn!(
                delivery = %key,
                status,
                error = %error,
                "could not release the delivery; a retry is refused until its lease runs out"
            ),
        }
    }
}

impl Drop for DeliveryGuard {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            tracing::debug!(
                delivery = %held.key,
                "delivery guard dropped before `finish`; releasing the delivery"
            );
            held.store.release_detached(held.key, held.lease);
        }
    }
}

impl fmt::Debug for DeliveryGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryGuard")
            .field("key", &self.key())
            .finish()
    }
}

#[cfg(test)]
// Tests fail by panicking.
#[allow(clippy::panic)]
mod tests {
    use std::{
        sync::{
            Arc, Barrier, Mutex,
            atomic::{AtomicUsize, Ordering},
        },
        thread,
    };

    use super::*;
    use crate::{
        Secret, Verifier, sign,
        store::{StoreError, StoreFuture, testing::block_on},
    };

    fn verified(body: &str) -> VerifiedEvent {
        let secret = Secret::new("secret");
        let header = sign(&secret, body.as_bytes());
        match Verifier::new(secret).verify(Some(header.as_bytes()), body.to_owned()) {
            Ok(event) => event,
            Err(e) => panic!("test event does not verify: {e}"),
        }
    }

    fn event() -> VerifiedEvent {
        verified(r#"{"event_type":"attack_start","incident":{"id":1}}"#)
    }

    fn proceed(dedup: &Deduplicator, event: &VerifiedEvent) -> DeliveryGuard {
        match block_on(dedup.begin(event)) {
            Ok(Begin::Proceed(guard)) => guard,
            other => panic!("expected Proceed, got {other:?}"),
        }
    }

    fn is_duplicate(dedup: &Deduplicator, event: &VerifiedEvent) -> bool {
        matches!(block_on(dedup.begin(event)), Ok(Begin::Duplicate))
    }

    fn is_in_flight(dedup: &Deduplicator, event: &VerifiedEvent) -> bool {
        matches!(block_on(dedup.begin(event)), Err(Error::DeliveryInFlight))
    }

    #[test]
    fn defaults() {
        let dedup = Deduplicator::default();
        assert_eq!(dedup.lease(), Duration::from_secs(30));
        assert_eq!(dedup.ttl(), Duration::from_secs(86_400));
        assert!(!dedup.fail_open());
        assert_eq!(Deduplicator::DUPLICATE_BODY, r#"{"duplicate":true}"#);
        assert_eq!(Deduplicator::DUPLICATE_STATUS, 200);
        let dedup = dedup
            .with_lease(Duration::from_secs(5))
            .with_ttl(Duration::from_secs(6))
            .with_fail_open(true);
        assert_eq!(
            (dedup.lease(), dedup.ttl(), dedup.fail_open()),
            (Duration::from_secs(5), Duration::from_secs(6), true)
        );
        assert_eq!(
            format!("{dedup:?}"),
            "Deduplicator { lease: 5s, ttl: 6s, fail_open: true, .. }"
        );
    }

    #[test]
    fn success_makes_retries_duplicates() {
        let dedup = Deduplicator::in_memory();
        let event = event();
        let guard = proceed(&dedup, &event);
        assert!(guard.is_tracked());
        assert_eq!(guard.key(), Some(DeliveryKey::from(&event)));
        assert!(is_in_flight(&dedup, &event));
        block_on(guard.finish(204));
        assert!(is_duplicate(&dedup, &event));
        assert!(is_duplicate(&dedup, &event));
        // A different delivery is not affected.
        drop(proceed(&dedup, &verified(r#"{"event_type":"test"}"#)));
    }

    #[test]
    fn failure_lets_the_retry_run() {
        let dedup = Deduplicator::in_memory();
        let event = event();
        for status in [500, 503, 404, 199, 300] {
            block_on(proceed(&dedup, &event).finish(status));
        }
        block_on(proceed(&dedup, &event).finish(299));
        assert!(is_duplicate(&dedup, &event));
    }

    #[test]
    fn dropped_guard_releases_the_delivery() {
        let dedup = Deduplicator::in_memory();
        let event = event();
        let guard = proceed(&dedup, &event);
        drop(guard);
        let _guard = proceed(&dedup, &event);
    }

    #[test]
    fn panicking_handler_releases_the_delivery() {
        let dedup = Deduplicator::in_memory();
        let event = event();
        let guard = proceed(&dedup, &event);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _guard = guard;
            panic!("handler failed");
        }));
        assert!(result.is_err());
        let _guard = proceed(&dedup, &event);
    }

    #[test]
    fn expired_lease_lets_a_retry_run_and_the_late_finish_does_not_interfere() {
        let dedup = Deduplicator::in_memory().with_lease(Duration::from_millis(50));
        let event = event();
        let slow = proceed(&dedup, &event);
        thread::sleep(Duration::from_millis(120));
        let retry = proceed(&dedup, &event);
        block_on(slow.finish(200));
        // The retry still holds the delivery: the slow request did not complete it.
        assert!(is_in_flight(&dedup, &event));
        block_on(retry.finish(500));
        drop(proceed(&dedup, &event));
    }

    #[test]
    fn fifty_concurrent_requests_run_the_handler_once() {
        let dedup = Deduplicator::in_memory();
        let event = event();
        let barrier = Arc::new(Barrier::new(50));
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let (dedup, event, barrier) = (dedup.clone(), event.clone(), Arc::clone(&barrier));
                thread::spawn(move || {
                    barrier.wait();
                    match block_on(dedup.begin(&event)) {
                        Ok(Begin::Proceed(guard)) => {
                            std::mem::forget(guard);
                            "proceed"
                        }
                        Ok(Begin::Duplicate) => "duplicate",
                        Err(e) => e.code(),
                    }
                })
            })
            .collect();
        let mut outcomes: Vec<&str> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("thread panicked")))
            .collect();
        outcomes.sort_unstable();
        outcomes.dedup();
        assert_eq!(outcomes, ["delivery_in_flight", "proceed"]);
    }

    /// A store that fails every call, counting them.
    #[derive(Default)]
    struct BrokenStore {
        calls: AtomicUsize,
        detached: Mutex<Vec<DeliveryKey>>,
    }

    impl BrokenStore {
        fn fail<T>(&self) -> StoreFuture<'_, T> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Err(StoreError::new("store is down")) })
        }
    }

    impl DeliveryStore for BrokenStore {
        fn reserve(&self, _: DeliveryKey, _: Duration) -> StoreFuture<'_, Reservation> {
            self.fail()
        }
        fn complete<'a>(
            &'a self,
            _: DeliveryKey,
            _: &'a Lease,
            _: Duration,
        ) -> StoreFuture<'a, bool> {
            self.fail()
        }
        fn release<'a>(&'a self, _: DeliveryKey, _: &'a Lease) -> StoreFuture<'a, bool> {
            self.fail()
        }
        fn release_detached(&self, key: DeliveryKey, _: Lease) {
            if let Ok(mut detached) = self.detached.lock() {
                detached.push(key);
            }
        }
    }

    #[test]
    fn store_failure_fails_closed_by_default() {
        let store = Arc::new(BrokenStore::default());
        let dedup = Deduplicator::new(store.clone());
        match block_on(dedup.begin(&event())) {
            Err(error @ Error::StoreUnavailable(_)) => {
                assert_eq!(error.status(), 503);
                assert!(error.to_string().contains("store is down"), "{error}");
            }
            other => panic!("expected StoreUnavailable, got {other:?}"),
        }
        assert_eq!(store.calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn store_failure_with_fail_open_proceeds_untracked() {
        let store = Arc::new(BrokenStore::default());
        let dedup = Deduplicator::new(store.clone()).with_fail_open(true);
        let guard = proceed(&dedup, &event());
        assert!(!guard.is_tracked());
        assert_eq!(guard.key(), None);
        block_on(guard.finish(200));
        drop(proceed(&dedup, &event()));
        // Only the two reservations reached the store: the untracked guards did nothing.
        assert_eq!(store.calls.load(Ordering::SeqCst), 2);
        assert!(store.detached.lock().map(|d| d.is_empty()).unwrap_or(false));
    }

    #[test]
    fn failed_completion_is_not_retried_on_drop() {
        // A store whose reserve works but whose completion fails.
        struct FlakyStore {
            memory: MemoryStore,
            detached: AtomicUsize,
        }
        impl DeliveryStore for FlakyStore {
            fn reserve(&self, key: DeliveryKey, lease: Duration) -> StoreFuture<'_, Reservation> {
                self.memory.reserve(key, lease)
            }
            fn complete<'a>(
                &'a self,
                _: DeliveryKey,
                _: &'a Lease,
                _: Duration,
            ) -> StoreFuture<'a, bool> {
                Box::pin(async { Err(StoreError::new("write failed")) })
            }
            fn release<'a>(&'a self, key: DeliveryKey, lease: &'a Lease) -> StoreFuture<'a, bool> {
                self.memory.release(key, lease)
            }
            fn release_detached(&self, key: DeliveryKey, lease: Lease) {
                self.detached.fetch_add(1, Ordering::SeqCst);
                self.memory.release_detached(key, lease);
            }
        }
        let store = Arc::new(FlakyStore {
            memory: MemoryStore::new(),
            detached: AtomicUsize::new(0),
        });
        let dedup = Deduplicator::new(store.clone());
        let event = event();
        block_on(proceed(&dedup, &event).finish(200));
        assert_eq!(store.detached.load(Ordering::SeqCst), 0);
        // Still in flight until the lease runs out.
        assert!(is_in_flight(&dedup, &event));
    }

    #[test]
    fn cancelled_finish_releases_on_drop() {
        use std::{
            future::Future,
            pin::pin,
            task::{Context, Waker},
        };

        /// Completion never finishes, like a store call cut off by a cancelled request.
        struct StuckStore(MemoryStore);
        impl DeliveryStore for StuckStore {
            fn reserve(&self, key: DeliveryKey, lease: Duration) -> StoreFuture<'_, Reservation> {
                self.0.reserve(key, lease)
            }
            fn complete<'a>(
                &'a self,
                _: DeliveryKey,
                _: &'a Lease,
                _: Duration,
            ) -> StoreFuture<'a, bool> {
                Box::pin(std::future::pending())
            }
            fn release<'a>(&'a self, key: DeliveryKey, lease: &'a Lease) -> StoreFuture<'a, bool> {
                self.0.release(key, lease)
            }
            fn release_detached(&self, key: DeliveryKey, lease: Lease) {
                self.0.release_detached(key, lease);
            }
        }
        let dedup = Deduplicator::new(Arc::new(StuckStore(MemoryStore::new())));
        let event = event();
        let guard = proceed(&dedup, &event);
        {
            let mut finish = pin!(guard.finish(200));
            let mut cx = Context::from_waker(Waker::noop());
            assert!(finish.as_mut().poll(&mut cx).is_pending());
        }
        drop(proceed(&dedup, &event));
    }

    #[test]
    fn futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let dedup = Deduplicator::in_memory();
        let event = event();
        let begin = dedup.begin(&event);
        assert_send(&begin);
        if let Ok(Begin::Proceed(guard)) = block_on(begin) {
            let finish = guard.finish(200);
            assert_send(&finish);
            block_on(finish);
        }
    }
}
