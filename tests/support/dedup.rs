//! The de-duplication scenarios (DESIGN §3, the delivery-store rows), written once and run
//! against every adapter over real TCP, with the in-memory store and with Redis.
//!
//! An adapter's test only says how to start its app: `POST /webhook` behind its middleware
//! with the given deduplicator, running [`Handler::run`] for each admitted event.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use flowtriq_webhook::{Deduplicator, Event, Secret, sign};
use flowtriq_webhook_examples::echo;
use flowtriq_webhook_redis::{RedisStore, test_support::RedisServer};
use serde_json::{Value, json};

use super::{SECRET, WireRequest, WireResponse, tcp, vendor_sample};

/// The handler behind the middleware: counts its runs, sleeps `delay`, and fails (500) once
/// when told to.
#[derive(Clone, Default)]
pub struct Handler {
    runs: Arc<AtomicUsize>,
    delay: Duration,
    fail_next: Arc<AtomicBool>,
}

impl Handler {
    fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// What the handler does for an admitted event: the status and JSON body to answer.
    pub async fn run(&self, event: &Event) -> (u16, Value) {
        self.runs.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fail_next.swap(false, Ordering::SeqCst) {
            (500, json!({ "error": "handler failed" }))
        } else {
            (200, echo(event))
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

/// A server started for a scenario; stopped when dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl Running {
    pub fn new(addr: SocketAddr, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            addr,
            stop: Some(Box::new(stop)),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// Which store backs the deduplicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Memory,
    Redis,
}

/// How the answers to the concurrent copies of one delivery were spread.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub handled: usize,
    pub in_flight_409: usize,
    pub duplicate_200: usize,
    pub other: usize,
}

fn delivery(incident: u64) -> WireRequest {
    let mut body: Value =
        serde_json::from_slice(&vendor_sample("attack_start")).unwrap_or_default();
    body["incident"]["id"] = json!(incident);
    let body = body.to_string().into_bytes();
    WireRequest {
        signature: Some(sign(&Secret::new(SECRET), &body)),
        body,
        chunked: false,
    }
}

fn is_duplicate(response: &WireResponse) -> bool {
    response.status == 200
        && serde_json::from_slice::<Value>(&response.body).ok()
            == Some(json!({ "duplicate": true }))
}

fn is_handled(response: &WireResponse, incident: u64) -> bool {
    response.status == 200
        && serde_json::from_slice::<Value>(&response.body)
            .is_ok_and(|body| body["incident_id"] == json!(incident))
}

/// Runs every scenario for one adapter and store, and returns the concurrent spread.
pub async fn scenarios<F>(adapter: &str, store: Store, start: F) -> Spread
where
    F: Fn(Deduplicator, Handler) -> Running,
{
    let mut redis = match store {
        Store::Memory => None,
        Store::Redis => Some(RedisServer::start().unwrap_or_else(|e| {
            panic!("{adapter}: redis-server is needed for this test ({e}); apt-get install redis-server")
        })),
    };
    let url = redis.as_ref().map(RedisServer::url).unwrap_or_default();
    let deduplicator = || async {
        match store {
            Store::Memory => Deduplicator::in_memory(),
            Store::Redis => {
                let redis = RedisStore::connect(&url)
                    .await
                    .unwrap_or_else(|e| panic!("{adapter}: cannot connect to redis: {e}"));
                Deduplicator::new(Arc::new(redis))
            }
        }
    };
    let label = format!("{adapter} with {store:?}");

    // The same delivery twice: handled once, then answered as a duplicate.
    {
        let handler = Handler::default();
        let app = start(deduplicator().await, handler.clone());
        let first = send(&label, app.addr, delivery(1)).await;
        assert!(is_handled(&first, 1), "{label}: first delivery: {first:?}");
        let second = send(&label, app.addr, delivery(1)).await;
        assert!(
            is_duplicate(&second),
            "{label}: second delivery: {second:?}"
        );
        let other = send(&label, app.addr, delivery(2)).await;
        assert!(
            is_handled(&other, 2),
            "{label}: another delivery: {other:?}"
        );
        assert_eq!(handler.runs(), 2, "{label}: handler runs");
    }

    // The handler fails: the delivery is released, and Flowtriq's retry is handled.
    {
        let handler = Handler::default();
        handler.fail_next.store(true, Ordering::SeqCst);
        let app = start(deduplicator().await, handler.clone());
        let failed = send(&label, app.addr, delivery(3)).await;
        assert_eq!(failed.status, 500, "{label}: failing handler: {failed:?}");
        let retry = send(&label, app.addr, delivery(3)).await;
        assert!(
            is_handled(&retry, 3),
            "{label}: retry after a 500: {retry:?}"
        );
        assert_eq!(handler.runs(), 2, "{label}: handler runs");
    }

    // 50 identical deliveries at once against a slow handler: it runs exactly once.
    let spread = {
        let handler = Handler::with_delay(Duration::from_millis(300));
        let app = start(deduplicator().await, handler.clone());
        // Collected, so that all 50 are sent before the first answer is awaited.
        let sends: Vec<_> = (0..50)
            .map(|_| tokio::spawn(tcp::send(app.addr, delivery(4))))
            .collect();
        let mut spread = Spread::default();
        for sent in sends {
            let response = sent
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
                .unwrap_or_else(|e| panic!("{label}: concurrent send failed: {e}"));
            match response.status {
                _ if is_handled(&response, 4) => spread.handled += 1,
                _ if is_duplicate(&response) => spread.duplicate_200 += 1,
                409 => spread.in_flight_409 += 1,
                _ => spread.other += 1,
            }
        }
        assert_eq!(handler.runs(), 1, "{label}: handler runs under concurrency");
        assert_eq!(
            (spread.handled, spread.other),
            (1, 0),
            "{label}: {spread:?}"
        );
        spread
    };

    if let Some(redis) = redis.as_mut() {
        // Two instances sharing one Redis: the handler runs once across both.
        let (handler_a, handler_b) = (Handler::default(), Handler::default());
        let a = start(deduplicator().await, handler_a.clone());
        let b = start(deduplicator().await, handler_b.clone());
        let first = send(&label, a.addr, delivery(5)).await;
        assert!(is_handled(&first, 5), "{label}: instance A: {first:?}");
        let second = send(&label, b.addr, delivery(5)).await;
        assert!(is_duplicate(&second), "{label}: instance B: {second:?}");
        assert_eq!(
            handler_a.runs() + handler_b.runs(),
            1,
            "{label}: runs across instances"
        );

        // Redis stops: fail closed (503) by default, handled when failing open.
        let closed = start(deduplicator().await, Handler::default());
        let open_handler = Handler::default();
        let open = start(
            deduplicator().await.with_fail_open(true),
            open_handler.clone(),
        );
        redis.stop();
        let refused = send(&label, closed.addr, delivery(6)).await;
        assert_eq!(
            refused.status, 503,
            "{label}: store down, fail closed: {refused:?}"
        );
        let handled = send(&label, open.addr, delivery(6)).await;
        assert!(
            is_handled(&handled, 6),
            "{label}: store down, fail open: {handled:?}"
        );
        assert_eq!(open_handler.runs(), 1, "{label}: fail-open runs");
    }

    eprintln!("{label}: 50 concurrent copies of one delivery -> {spread:?}");
    spread
}

async fn send(label: &str, addr: SocketAddr, request: WireRequest) -> WireResponse {
    tcp::send(addr, request)
        .await
        .unwrap_or_else(|e| panic!("{label}: request failed: {e}"))
}
