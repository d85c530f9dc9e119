//! `RedisStore` against a real `redis-server`, started per test on a free loopback port.
//!
//! A missing `redis-server` binary fails these tests; it never skips them.

// Tests fail by panicking; unwrapping setup steps keeps them readable.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

// The same process guard the `test-support` feature exports, included so these tests run
// without enabling the feature.
#[allow(unreachable_pub, dead_code)]
#[path = "../src/test_support.rs"]
mod test_support;

use std::{sync::Arc, time::Duration};

use flowtriq_webhook::{
    Begin, Deduplicator, DeliveryKey, DeliveryStore, Error, Lease, Reservation, Secret,
    VerifiedEvent, Verifier, sign,
};
use flowtriq_webhook_redis::RedisStore;
use test_support::RedisServer;

const LONG: Duration = Duration::from_secs(60);

fn server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|error| panic!("cannot start redis-server: {error}"))
}

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {}: {error}", server.url()))
}

fn key(n: u8) -> DeliveryKey {
    DeliveryKey::from_bytes([n; 32])
}

async fn reserve(store: &RedisStore, key: DeliveryKey, lease: Duration) -> Reservation {
    store
        .reserve(key, lease)
        .await
        .unwrap_or_else(|error| panic!("reserve failed: {error}"))
}

async fn acquire(store: &RedisStore, key: DeliveryKey, lease: Duration) -> Lease {
    match reserve(store, key, lease).await {
        Reservation::Acquired(lease) => lease,
        other => panic!("expected Acquired, got {other:?}"),
    }
}

async fn complete(store: &RedisStore, key: DeliveryKey, lease: &Lease, ttl: Duration) -> bool {
    store.complete(key, lease, ttl).await.unwrap()
}

async fn release(store: &RedisStore, key: DeliveryKey, lease: &Lease) -> bool {
    store.release(key, lease).await.unwrap()
}

/// Reads a key straight from Redis: its value and remaining lifetime in milliseconds.
async fn raw(server: &RedisServer, redis_key: &str) -> (Option<String>, i64) {
    let client = redis::Client::open(server.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<String> = redis::cmd("GET")
        .arg(redis_key)
        .query_async(&mut connection)
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(redis_key)
        .query_async(&mut connection)
        .await
        .unwrap();
    (value, ttl)
}

fn verified(body: &str) -> VerifiedEvent {
    let secret = Secret::new("secret");
    let header = sign(&secret, body.as_bytes());
    Verifier::new(secret)
        .verify(Some(header.as_bytes()), body.to_owned())
        .unwrap()
}

#[tokio::test]
async fn reserve_complete_release_cycle() {
    let server = server();
    let store = store(&server).await;

    let lease = acquire(&store, key(1), LONG).await;
    assert_eq!(reserve(&store, key(1), LONG).await, Reservation::InFlight);
    assert!(matches!(
        reserve(&store, key(2), LONG).await,
        Reservation::Acquired(_)
    ));

    assert!(complete(&store, key(1), &lease, LONG).await);
    assert_eq!(
        reserve(&store, key(1), LONG).await,
        Reservation::AlreadyHandled
    );
    // Completing or releasing a handled delivery changes nothing.
    assert!(!complete(&store, key(1), &lease, LONG).await);
    assert!(!release(&store, key(1), &lease).await);
    assert_eq!(
        reserve(&store, key(1), LONG).await,
        Reservation::AlreadyHandled
    );

    let lease = acquire(&store, key(3), LONG).await;
    assert!(release(&store, key(3), &lease).await);
    let again = acquire(&store, key(3), LONG).await;
    assert_ne!(again, lease);
}

#[tokio::test]
async fn keys_are_prefixed_and_expire_with_the_lease_or_ttl() {
    let server = server();
    let store = store(&server).await;
    let redis_key = store.redis_key(&key(1));
    assert_eq!(redis_key, format!("flowtriq:delivery:{}", key(1)));

    let lease = acquire(&store, key(1), Duration::from_secs(30)).await;
    let (value, ttl) = raw(&server, &redis_key).await;
    assert_eq!(value, Some(format!("{:032x}", lease.token())));
    assert!((1..=30_000).contains(&ttl), "{ttl}");

    assert!(complete(&store, key(1), &lease, Duration::from_secs(3600)).await);
    let (value, ttl) = raw(&server, &redis_key).await;
    assert_eq!(value.as_deref(), Some("done"));
    assert!((30_001..=3_600_000).contains(&ttl), "{ttl}");
}

#[tokio::test]
async fn stale_token_cannot_complete_or_release_a_newer_reservation() {
    let server = server();
    let store = store(&server).await;

    let stale = acquire(&store, key(1), LONG).await;
    assert!(release(&store, key(1), &stale).await);
    let current = acquire(&store, key(1), LONG).await;

    assert!(!complete(&store, key(1), &stale, LONG).await);
    assert!(!release(&store, key(1), &stale).await);
    assert_eq!(reserve(&store, key(1), LONG).await, Reservation::InFlight);

    assert!(complete(&store, key(1), &current, LONG).await);
    assert_eq!(
        reserve(&store, key(1), LONG).await,
        Reservation::AlreadyHandled
    );
}

#[tokio::test]
async fn lease_expiry_frees_the_key_and_a_late_completion_still_counts() {
    let server = server();
    let store = store(&server).await;
    let short = Duration::from_millis(100);

    let late = acquire(&store, key(1), short).await;
    let other = acquire(&store, key(2), short).await;
    tokio::time::sleep(Duration::from_millis(250)).await;

    // Key 2: expired and taken by another request; the late worker cannot touch it.
    let fresh = acquire(&store, key(2), LONG).await;
    assert!(!complete(&store, key(2), &other, LONG).await);
    assert!(!release(&store, key(2), &other).await);
    assert_eq!(reserve(&store, key(2), LONG).await, Reservation::InFlight);
    assert!(release(&store, key(2), &fresh).await);

    // Key 1: expired and untouched since; the late worker's success is still recorded.
    assert!(complete(&store, key(1), &late, LONG).await);
    assert_eq!(
        reserve(&store, key(1), LONG).await,
        Reservation::AlreadyHandled
    );
}

#[tokio::test]
async fn handled_deliveries_expire_after_the_ttl() {
    let server = server();
    let store = store(&server).await;
    let lease = acquire(&store, key(1), LONG).await;
    assert!(complete(&store, key(1), &lease, Duration::from_millis(100)).await);
    assert_eq!(
        reserve(&store, key(1), LONG).await,
        Reservation::AlreadyHandled
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = acquire(&store, key(1), LONG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_fifty_concurrent_reservations_wins() {
    let server = server();
    let store = Arc::new(store(&server).await);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.reserve(key(9), LONG).await })
        })
        .collect();
    let mut acquired = 0;
    let mut in_flight = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Reservation::Acquired(_) => acquired += 1,
            Reservation::InFlight => in_flight += 1,
            Reservation::AlreadyHandled => panic!("nothing was completed"),
        }
    }
    assert_eq!((acquired, in_flight), (1, 49));
}

#[tokio::test]
async fn two_stores_on_one_server_share_reservations() {
    let server = server();
    let replica_a = store(&server).await;
    let replica_b = store(&server).await;

    let lease = acquire(&replica_a, key(1), LONG).await;
    assert_eq!(
        reserve(&replica_b, key(1), LONG).await,
        Reservation::InFlight
    );
    // B cannot finish A's reservation with a lease of its own.
    let b_lease = acquire(&replica_b, key(2), LONG).await;
    assert!(!release(&replica_b, key(1), &b_lease).await);

    assert!(complete(&replica_a, key(1), &lease, LONG).await);
    assert_eq!(
        reserve(&replica_b, key(1), LONG).await,
        Reservation::AlreadyHandled
    );

    // A store with another prefix is a separate namespace.
    let other = store(&server).await.with_key_prefix("other:");
    assert_eq!(other.key_prefix(), "other:");
    assert!(matches!(
        reserve(&other, key(1), LONG).await,
        Reservation::Acquired(_)
    ));
}

#[tokio::test]
async fn detached_release_runs_on_the_runtime() {
    let server = server();
    let store = store(&server).await;
    let lease = acquire(&store, key(1), LONG).await;
    store.release_detached(key(1), lease);
    for _ in 0..100 {
        if let Reservation::Acquired(_) = reserve(&store, key(1), LONG).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the detached release never happened");
}

#[tokio::test]
async fn deduplicator_over_redis() {
    let server = server();
    let dedup = Deduplicator::new(Arc::new(store(&server).await));
    let event = verified(r#"{"event_type":"attack_start","incident":{"id":7}}"#);

    let Ok(Begin::Proceed(guard)) = dedup.begin(&event).await else {
        panic!("first delivery must proceed");
    };
    assert!(matches!(
        dedup.begin(&event).await,
        Err(Error::DeliveryInFlight)
    ));
    guard.finish(200).await;
    assert!(matches!(dedup.begin(&event).await, Ok(Begin::Duplicate)));

    // A failed handler lets the retry run; a dropped guard releases in the background.
    let other = verified(r#"{"event_type":"test"}"#);
    let Ok(Begin::Proceed(guard)) = dedup.begin(&other).await else {
        panic!("other delivery must proceed");
    };
    guard.finish(500).await;
    let Ok(Begin::Proceed(guard)) = dedup.begin(&other).await else {
        panic!("retry after a failure must proceed");
    };
    drop(guard);
    for _ in 0..100 {
        if let Ok(Begin::Proceed(guard)) = dedup.begin(&other).await {
            guard.finish(200).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the dropped guard never released the delivery");
}

#[tokio::test]
async fn stopped_server_gives_store_errors() {
    let mut server = server();
    let store = RedisStore::builder(server.url())
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    let lease = acquire(&store, key(1), LONG).await;
    server.stop();

    let started = std::time::Instant::now();
    let error = store.reserve(key(2), LONG).await.unwrap_err();
    assert!(error.to_string().starts_with("redis reserve "), "{error}");
    assert!(store.complete(key(1), &lease, LONG).await.is_err());
    assert!(store.release(key(1), &lease).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let event = verified(r#"{"event_type":"test"}"#);
    let closed = Deduplicator::new(Arc::new(store.clone()));
    match closed.begin(&event).await {
        Err(error @ Error::StoreUnavailable(_)) => assert_eq!(error.status(), 503),
        other => panic!("expected StoreUnavailable, got {other:?}"),
    }
    let open = closed.clone().with_fail_open(true);
    match open.begin(&event).await {
        Ok(Begin::Proceed(guard)) => {
            assert!(!guard.is_tracked());
            guard.finish(200).await;
        }
        other => panic!("expected Proceed, got {other:?}"),
    }
}

#[tokio::test]
async fn store_recovers_when_the_server_restarts_on_the_same_port() {
    let mut server = server();
    let port = server.port();
    let store = RedisStore::builder(server.url())
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    let _lease = acquire(&store, key(1), LONG).await;
    server.stop();
    assert!(store.reserve(key(2), LONG).await.is_err());

    server.restart().unwrap();
    assert_eq!(server.port(), port);
    // The connection is re-established on use; a call may still fail while it is.
    let mut outcome = None;
    for _ in 0..20 {
        match store.reserve(key(1), LONG).await {
            Ok(reservation) => {
                outcome = Some(reservation);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    // Nothing was persisted: the reservation made before the restart is gone.
    assert!(
        matches!(outcome, Some(Reservation::Acquired(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn connecting_to_nothing_fails_quickly() {
    let mut server = server();
    let url = server.url();
    server.stop();
    let started = std::time::Instant::now();
    let error = RedisStore::builder(&url)
        .timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let error = RedisStore::connect("http://example.com").await.unwrap_err();
    assert!(
        error.to_string().starts_with("invalid Redis URL"),
        "{error}"
    );
}

#[tokio::test]
async fn passwords_stay_out_of_debug_and_errors() {
    let server = RedisServer::start_with_args(&["--requirepass", "hunter2"])
        .unwrap_or_else(|error| panic!("cannot start redis-server: {error}"));
    let url = format!("redis://:hunter2@127.0.0.1:{}/", server.port());
    let store = RedisStore::connect(&url).await.unwrap();
    let debug = format!("{store:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(
        debug.contains(&format!("127.0.0.1:{}", server.port())),
        "{debug}"
    );
    let _ = acquire(&store, key(1), LONG).await;

    let wrong = format!("redis://:wrong-hunter3@127.0.0.1:{}/", server.port());
    let error = RedisStore::builder(&wrong)
        .timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_err();
    let message = format!("{error} {error:?}");
    assert!(!message.contains("hunter"), "{message}");
}

#[test]
fn missing_binary_is_a_clear_error() {
    let error = RedisServer::start_binary("/nonexistent/redis-server", &[]).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    let message = error.to_string();
    assert!(
        message.contains("apt-get install redis-server"),
        "{message}"
    );
    assert!(message.contains(RedisServer::BINARY_ENV), "{message}");
}
