//! The embedded delivery store: a bounded concurrent cache in this process.

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use moka::{Expiry, ops::compute::Op, sync::Cache};

use super::{DeliveryKey, DeliveryStore, Lease, Reservation, StoreFuture};

/// Longest lifetime given to an entry; moka refuses expirations beyond 1000 years.
const MAX_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// The state of one known delivery.
#[derive(Debug, Clone, Copy)]
enum Slot {
    InFlight { token: u128, lease: Duration },
    Handled { ttl: Duration },
}

impl Slot {
    fn lifetime(self) -> Duration {
        match self {
            Self::InFlight { lease, .. } => lease,
            Self::Handled { ttl } => ttl,
        }
        .min(MAX_LIFETIME)
    }
}

/// Each entry lives for its own lease or TTL, counted from its last write.
struct SlotExpiry;

impl Expiry<DeliveryKey, Slot> for SlotExpiry {
    fn expire_after_create(
        &self,
        _key: &DeliveryKey,
        slot: &Slot,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(slot.lifetime())
    }

    fn expire_after_update(
        &self,
        _key: &DeliveryKey,
        slot: &Slot,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(slot.lifetime())
    }
}

/// The default delivery store: in this process, bounded in entries and in time.
///
/// In-flight entries expire after their lease and handled ones after their TTL. When the
/// store is full, the cache evicts the entries it judges least useful first (so a flood of
/// distinct deliveries can make an old one be handled twice, never blocked). Every
/// transition is atomic per key, and safe from any number of threads.
///
/// It de-duplicates within one process only; receivers that run as several replicas need a
/// shared store such as the one in `flowtriq-webhook-redis`.
///
/// ```
/// use std::sync::Arc;
/// use flowtriq_webhook::{Deduplicator, MemoryStore};
///
/// let dedup = Deduplicator::new(Arc::new(MemoryStore::with_max_entries(10_000)));
/// assert_eq!(dedup.lease().as_secs(), 30);
/// ```
pub struct MemoryStore {
    cache: Cache<DeliveryKey, Slot>,
    max_entries: u64,
    next_token: AtomicU64,
}

impl MemoryStore {
    /// How many deliveries a [`MemoryStore::new`] remembers at most.
    pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;

    /// A store remembering at most [`DEFAULT_MAX_ENTRIES`](Self::DEFAULT_MAX_ENTRIES)
    /// deliveries.
    pub fn new() -> Self {
        Self::with_max_entries(Self::DEFAULT_MAX_ENTRIES)
    }

    /// A store remembering at most `max_entries` deliveries, in flight and handled together.
    pub fn with_max_entries(max_entries: u64) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(max_entries)
                .expire_after(SlotExpiry)
                .build(),
            max_entries,
            next_token: AtomicU64::new(1),
        }
    }

    /// The most deliveries this store remembers.
    pub fn max_entries(&self) -> u64 {
        self.max_entries
    }

    /// How many deliveries are remembered now. Runs the cache's pending eviction work first,
    /// so the figure is current; meant for metrics and tests, not for every request.
    pub fn entry_count(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    fn reserve_now(&self, key: DeliveryKey, lease: Duration) -> Reservation {
        let token = u128::from(self.next_token.fetch_add(1, Ordering::Relaxed));
        let mut outcome = Reservation::InFlight;
        self.cache.entry(key).and_compute_with(|current| {
            match current.map(|entry| *entry.value()) {
                None => {
                    outcome = Reservation::Acquired(Lease::new(token));
                    Op::Put(Slot::InFlight { token, lease })
                }
                Some(Slot::Handled { .. }) => {
                    outcome = Reservation::AlreadyHandled;
                    Op::Nop
                }
                Some(Slot::InFlight { .. }) => {
                    outcome = Reservation::InFlight;
                    Op::Nop
                }
            }
        });
        outcome
    }

    fn complete_now(&self, key: DeliveryKey, lease: &Lease, ttl: Duration) -> bool {
        let mut completed = false;
        self.cache.entry(key).and_compute_with(|current| {
            match current.map(|entry| *entry.value()) {
                Some(Slot::InFlight { token, .. }) if token != lease.token() => Op::Nop,
                Some(Slot::Handled { .. }) => Op::Nop,
                // Ours, or our lease ran out and nobody took the key since.
                Some(Slot::InFlight { .. }) | None => {
                    completed = true;
                    Op::Put(Slot::Handled { ttl })
                }
            }
        });
        completed
    }

    fn release_now(&self, key: DeliveryKey, lease: &Lease) -> bool {
        let mut released = false;
        self.cache.entry(key).and_compute_with(|current| {
            match current.map(|entry| *entry.value()) {
                Some(Slot::InFlight { token, .. }) if token == lease.token() => {
                    released = true;
                    Op::Remove
                }
                _ => Op::Nop,
            }
        });
        released
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("max_entries", &self.max_entries)
            .field("entries", &self.cache.entry_count())
            .finish()
    }
}

impl DeliveryStore for MemoryStore {
    fn reserve(&self, key: DeliveryKey, lease: Duration) -> StoreFuture<'_, Reservation> {
        Box::pin(async move { Ok(self.reserve_now(key, lease)) })
    }

    fn complete<'a>(
        &'a self,
        key: DeliveryKey,
        lease: &'a Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.complete_now(key, lease, ttl)) })
    }

    fn release<'a>(&'a self, key: DeliveryKey, lease: &'a Lease) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.release_now(key, lease)) })
    }

    /// Releases synchronously: the in-memory store never blocks on I/O.
    fn release_detached(&self, key: DeliveryKey, lease: Lease) {
        self.release_now(key, &lease);
    }
}

#[cfg(test)]
// Tests fail by panicking.
#[allow(clippy::panic)]
mod tests {
    use std::{
        sync::{Arc, Barrier},
        thread,
    };

    use super::*;
    use crate::store::testing::block_on;

    const LONG: Duration = Duration::from_secs(60);

    fn key(n: u8) -> DeliveryKey {
        DeliveryKey::from_bytes([n; 32])
    }

    fn acquire(store: &MemoryStore, key: DeliveryKey, lease: Duration) -> Lease {
        match block_on(store.reserve(key, lease)) {
            Ok(Reservation::Acquired(lease)) => lease,
            other => panic!("expected Acquired, got {other:?}"),
        }
    }

    fn reserve(store: &MemoryStore, key: DeliveryKey) -> Reservation {
        match block_on(store.reserve(key, LONG)) {
            Ok(reservation) => reservation,
            Err(e) => panic!("memory store failed: {e}"),
        }
    }

    #[test]
    fn reserving_twice_finds_it_in_flight() {
        let store = MemoryStore::new();
        let _lease = acquire(&store, key(1), LONG);
        assert_eq!(reserve(&store, key(1)), Reservation::InFlight);
        assert!(matches!(reserve(&store, key(2)), Reservation::Acquired(_)));
    }

    #[test]
    fn completed_delivery_is_already_handled() {
        let store = MemoryStore::new();
        let lease = acquire(&store, key(1), LONG);
        assert!(matches!(
            block_on(store.complete(key(1), &lease, LONG)),
            Ok(true)
        ));
        assert_eq!(reserve(&store, key(1)), Reservation::AlreadyHandled);
        // Completing or releasing again changes nothing.
        assert!(matches!(
            block_on(store.complete(key(1), &lease, LONG)),
            Ok(false)
        ));
        assert!(matches!(block_on(store.release(key(1), &lease)), Ok(false)));
        assert_eq!(reserve(&store, key(1)), Reservation::AlreadyHandled);
    }

    #[test]
    fn released_delivery_can_be_acquired_again() {
        let store = MemoryStore::new();
        let lease = acquire(&store, key(1), LONG);
        assert!(matches!(block_on(store.release(key(1), &lease)), Ok(true)));
        let second = acquire(&store, key(1), LONG);
        assert_ne!(second, lease);
    }

    #[test]
    fn detached_release_forgets_the_delivery() {
        let store = MemoryStore::new();
        let lease = acquire(&store, key(1), LONG);
        store.release_detached(key(1), lease);
        let _ = acquire(&store, key(1), LONG);
    }

    #[test]
    fn stale_lease_cannot_complete_or_release_a_newer_reservation() {
        let store = MemoryStore::new();
        let stale = acquire(&store, key(1), LONG);
        assert!(matches!(block_on(store.release(key(1), &stale)), Ok(true)));
        let current = acquire(&store, key(1), LONG);

        assert!(matches!(
            block_on(store.complete(key(1), &stale, LONG)),
            Ok(false)
        ));
        assert!(matches!(block_on(store.release(key(1), &stale)), Ok(false)));
        store.release_detached(key(1), stale);
        assert_eq!(reserve(&store, key(1)), Reservation::InFlight);

        assert!(matches!(
            block_on(store.complete(key(1), &current, LONG)),
            Ok(true)
        ));
        assert_eq!(reserve(&store, key(1)), Reservation::AlreadyHandled);
    }

    #[test]
    fn lease_expiry_frees_the_key_and_a_late_completion_still_counts() {
        let store = MemoryStore::new();
        let late = acquire(&store, key(1), Duration::from_millis(50));
        let other = acquire(&store, key(2), Duration::from_millis(50));
        thread::sleep(Duration::from_millis(120));

        // Key 2: expired and taken by another request; the late worker cannot touch it.
        let fresh = acquire(&store, key(2), LONG);
        assert!(matches!(
            block_on(store.complete(key(2), &other, LONG)),
            Ok(false)
        ));
        assert_eq!(reserve(&store, key(2)), Reservation::InFlight);
        assert!(matches!(block_on(store.release(key(2), &fresh)), Ok(true)));

        // Key 1: expired and untouched since; the late worker's success is still recorded.
        assert!(matches!(
            block_on(store.complete(key(1), &late, LONG)),
            Ok(true)
        ));
        assert_eq!(reserve(&store, key(1)), Reservation::AlreadyHandled);
    }

    #[test]
    fn handled_entries_expire_after_their_ttl() {
        let store = MemoryStore::new();
        let lease = acquire(&store, key(1), LONG);
        assert!(matches!(
            block_on(store.complete(key(1), &lease, Duration::from_millis(50))),
            Ok(true)
        ));
        assert_eq!(reserve(&store, key(1)), Reservation::AlreadyHandled);
        thread::sleep(Duration::from_millis(120));
        let _ = acquire(&store, key(1), LONG);
    }

    #[test]
    fn entries_are_bounded() {
        let store = MemoryStore::with_max_entries(100);
        for n in 0..1_000u32 {
            let mut bytes = [0u8; 32];
            for (byte, n_byte) in bytes.iter_mut().zip(n.to_le_bytes()) {
                *byte = n_byte;
            }
            let _ = acquire(&store, DeliveryKey::from_bytes(bytes), LONG);
        }
        assert!(store.entry_count() <= 100, "{}", store.entry_count());
        assert_eq!(store.max_entries(), 100);
    }

    #[test]
    fn exactly_one_of_fifty_concurrent_reservations_wins() {
        let store = Arc::new(MemoryStore::new());
        let barrier = Arc::new(Barrier::new(50));
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    barrier.wait();
                    reserve(&store, key(9))
                })
            })
            .collect();
        let outcomes: Vec<Reservation> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("thread panicked")))
            .collect();
        let acquired = outcomes
            .iter()
            .filter(|r| matches!(r, Reservation::Acquired(_)))
            .count();
        let in_flight = outcomes
            .iter()
            .filter(|r| **r == Reservation::InFlight)
            .count();
        assert_eq!((acquired, in_flight), (1, 49));
    }

    #[test]
    fn debug_shows_the_bound() {
        let debug = format!("{:?}", MemoryStore::with_max_entries(5));
        assert!(debug.contains("max_entries: 5"), "{debug}");
    }
}
