//! Hostile clients against the example receivers, run as processes over real TCP.
//!
//! Always on (a few seconds each, part of `cargo test --workspace`):
//! - a client trickling its body at 1 byte/s does not delay valid deliveries;
//! - 200 idle connections (opened, never written to) do not stop valid deliveries;
//! - 1,000 mixed deliveries from the shared case table (valid, forged, tampered, oversized,
//!   malformed), 32 in flight, all answered right and none with a 5xx.
//!
//! The long versions are `#[ignore]`d; run them, release build, with
//!
//! ```sh
//! cargo test --release -- --ignored hostile:: --skip known_gap
//! ```
//!
//! (not `--test hostile` alone: cargo builds the example programs these tests start only when
//! it builds all of the package's targets, and would otherwise run stale or missing ones):
//!
//! - a trickled body, and a trickled request head, are cut off by the receiver's timeouts
//!   (bounded at 40 s per case);
//! - 1,000 idle connections (the test raises its own open-file limit, and so the receiver's,
//!   to 4,096; `ulimit -Hn` must allow that);
//! - 10,000 mixed deliveries;
//! - idle connections past the receiver's open-file limit (started under `ulimit -n 256`)
//!   still leave room for a valid delivery within Flowtriq's 10 s timeout.
//!
//! Where an example is known to fail one of these, its case is named `...::known_gap` and
//! ignored with the reason (see the `receivers!` list at the bottom); drop `--skip known_gap`
//! to run those too, and see them fail until the example is fixed. Add `--nocapture` to see
//! the counts and timings each case reports.
//!
//! The receivers and the deliveries are the ones every other test uses: `support::cases()`,
//! `support::tcp` and `support::receiver`. To cover another framework, add its example to
//! the `receivers!` list at the bottom.

// Tests fail by panicking and index into tables and JSON they built themselves; the counts
// are reported on stderr on purpose.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

mod support;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use support::{Case, Expect, WireRequest, receiver::Receiver, tcp};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// How long a valid delivery may take to be answered while the receiver is under attack:
/// Flowtriq's own timeout.
const FLOWTRIQ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a cut-off case waits for the receiver to cut a trickling client.
const CUT_OFF_BOUND: Duration = Duration::from_secs(40);
/// The open-file limit the idle-connection cases raise this process's (and the receiver's)
/// soft limit to, when it is lower.
const OPEN_FILES: u64 = 4096;
/// The receivers' request timeout (axum and actix-web examples).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

fn start(name: &str) -> Receiver {
    Receiver::start(name, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A valid delivery from the case table, and its check.
fn valid() -> (Case, WireRequest) {
    let case = support::cases()
        .into_iter()
        .find(|case| case.name == "attack_start")
        .expect("the case table has a valid attack_start");
    let request = case.request();
    (case, request)
}

/// Sends `count` valid deliveries one after the other; each must be answered right within
/// Flowtriq's timeout. Returns the slowest answer.
async fn deliveries_are_served(label: &str, addr: SocketAddr, count: usize) -> Duration {
    let (case, request) = valid();
    let mut slowest = Duration::ZERO;
    for n in 0..count {
        let started = Instant::now();
        let response = tokio::time::timeout(FLOWTRIQ_TIMEOUT, tcp::send(addr, request.clone()))
            .await
            .unwrap_or_else(|_| {
                panic!("{label}: delivery {n} not answered within {FLOWTRIQ_TIMEOUT:?}")
            })
            .unwrap_or_else(|e| panic!("{label}: delivery {n}: {e}"));
        case.check_with(&request, &response, false)
            .unwrap_or_else(|e| panic!("{label}: delivery {n}: {e}"));
        slowest = slowest.max(started.elapsed());
    }
    slowest
}

/// Which part of a request a client trickles.
#[derive(Debug, Clone, Copy)]
enum Part {
    /// The head goes out at once, then the body byte by byte.
    Body,
    /// The head itself, byte by byte.
    Head,
}

/// What became of a trickling client.
#[derive(Debug)]
struct Trickled {
    /// When the receiver answered or closed the connection, if it did within the bound.
    cut_after: Option<Duration>,
    /// The status line it answered with, if any.
    answer: Option<String>,
    /// How many bytes were trickled.
    trickled: usize,
}

/// Opens a connection and trickles one byte per second of `part` for at most `bound`,
/// watching for the receiver to answer or close the connection.
async fn trickle(addr: SocketAddr, part: Part, bound: Duration) -> Trickled {
    // Longer than the bound at 1 byte/s, so that only the receiver can end it early.
    let body = format!(r#"{{"event_type":"test","pad":"{}"}}"#, "x".repeat(200));
    let head = |content_length: usize| {
        format!(
            "POST {} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             x-flowtriq-signature: sha256={}\r\nx-padding: {}\r\ncontent-length: \
             {content_length}\r\n\r\n",
            support::PATH,
            "0".repeat(64),
            "p".repeat(64),
        )
    };
    let (at_once, trickled) = match part {
        Part::Body => (head(body.len()), body),
        Part::Head => (String::new(), head(0)),
    };
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let cut = |answer: Option<String>, trickled| Trickled {
        cut_after: Some(started.elapsed()),
        answer,
        trickled,
    };
    if stream.write_all(at_once.as_bytes()).await.is_err() {
        return cut(None, 0);
    }
    let mut buf = [0u8; 1024];
    let mut sent = 0;
    for byte in trickled.bytes() {
        if started.elapsed() >= bound {
            break;
        }
        if stream.write_all(&[byte]).await.is_err() {
            return cut(None, sent);
        }
        sent += 1;
        let tick = started + Duration::from_secs(sent as u64);
        match tokio::time::timeout_at(tick.into(), stream.read(&mut buf)).await {
            Err(_elapsed) => {}
            Ok(Ok(0) | Err(_)) => return cut(None, sent),
            Ok(Ok(n)) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                let status = text.lines().next().unwrap_or_default().to_owned();
                return cut(Some(status), sent);
            }
        }
    }
    Trickled {
        cut_after: None,
        answer: None,
        trickled: sent,
    }
}

/// While one client trickles its body, valid deliveries are answered as usual.
async fn trickled_body_does_not_delay_deliveries(name: &str) {
    let receiver = start(name);
    let addr = receiver.addr;
    let trickler = tokio::spawn(trickle(addr, Part::Body, Duration::from_secs(4)));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let slowest = deliveries_are_served(name, addr, 10).await;
    let trickled = trickler.await.expect("trickling task");
    assert!(
        trickled.cut_after.is_none(),
        "{name}: the trickling client was cut before the deliveries were done: {trickled:?}"
    );
    eprintln!(
        "{name}: 10 deliveries while a client trickled {} body bytes; slowest answer {slowest:?}",
        trickled.trickled
    );
}

/// A client trickling `part` at 1 byte/s is cut off by the receiver within its timeout.
async fn trickle_is_cut_off(name: &str, part: Part, within: Duration) {
    let receiver = start(name);
    let trickled = trickle(receiver.addr, part, CUT_OFF_BOUND).await;
    eprintln!(
        "{name}: {part:?} trickled at 1 byte/s: cut after {:?} and {} bytes, answer {:?}",
        trickled.cut_after, trickled.trickled, trickled.answer
    );
    let Some(after) = trickled.cut_after else {
        panic!(
            "{name}: a client trickling its {part:?} at 1 byte/s still held its connection \
             after {CUT_OFF_BOUND:?} ({} bytes sent)",
            trickled.trickled
        );
    };
    assert!(
        after <= within,
        "{name}: trickled {part:?} cut only after {after:?} (want at most {within:?})"
    );
}

/// Raises this process's soft limit on open files to at least `want` (children inherit it).
#[cfg(unix)]
fn raise_open_files_limit(want: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_none_or(|current| current >= want) {
        return;
    }
    if limit.maximum.is_some_and(|maximum| maximum < want) {
        panic!(
            "this test needs {want} open files and the hard limit is {:?}: raise it, e.g. \
             `ulimit -Hn {want}` as root",
            limit.maximum
        );
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(want),
            maximum: limit.maximum,
        },
    )
    .unwrap_or_else(|e| panic!("cannot raise the open-file limit to {want}: {e}"));
}

#[cfg(not(unix))]
fn raise_open_files_limit(_want: u64) {}

/// Opens `count` connections to `addr` and leaves them silent.
async fn open_idle(label: &str, addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut idle = Vec::with_capacity(count);
    for n in 0..count {
        let stream = tokio::time::timeout(FLOWTRIQ_TIMEOUT, TcpStream::connect(addr))
            .await
            .unwrap_or_else(|_| panic!("{label}: idle connection {n} not accepted in time"))
            .unwrap_or_else(|e| panic!("{label}: idle connection {n}: {e}"));
        idle.push(stream);
    }
    idle
}

/// How many of the connections the receiver has neither answered nor closed.
fn still_open(idle: &[TcpStream]) -> usize {
    let mut buf = [0u8; 1];
    idle.iter()
        .filter(|stream| {
            matches!(stream.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count()
}

/// `count` idle connections do not stop valid deliveries from being answered.
async fn idle_connections_do_not_stop_deliveries(name: &str, count: usize) {
    // The test and the receiver each hold one descriptor per connection.
    raise_open_files_limit(OPEN_FILES.max(2 * count as u64 + 1024));
    let receiver = start(name);
    let idle = open_idle(name, receiver.addr, count).await;
    // Give the receiver time to accept them all.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let slowest = deliveries_are_served(name, receiver.addr, 20).await;
    eprintln!(
        "{name}: 20 deliveries beside {count} idle connections; slowest answer {slowest:?}; \
         {} idle connections still open",
        still_open(&idle)
    );
}

/// With its open files limited, idle connections past the limit still leave room for a
/// valid delivery within Flowtriq's timeout: the receiver drops idle connections in time.
async fn idle_connections_past_the_fd_limit(name: &str) {
    const LIMIT: u32 = 256;
    let receiver = Receiver::start_with(
        name,
        &support::receiver::Options {
            max_open_files: Some(LIMIT),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let count = LIMIT as usize + 64;
    let idle = open_idle(name, receiver.addr, count).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let outcome = std::panic::AssertUnwindSafe(deliveries_are_served(name, receiver.addr, 1));
    let served = futures_util::FutureExt::catch_unwind(outcome).await;
    eprintln!(
        "{name}: under `ulimit -n {LIMIT}` with {count} idle connections, a delivery {} after \
         {:?}; {} idle connections still open",
        if served.is_ok() {
            "was answered"
        } else {
            "failed"
        },
        started.elapsed(),
        still_open(&idle)
    );
    if let Err(panic) = served {
        std::panic::resume_unwind(panic);
    }
}

/// What the mixed run saw.
#[derive(Debug, Default)]
struct Tally {
    /// Per expected status: how many were sent.
    expected: BTreeMap<u16, usize>,
    /// Per status received.
    received: BTreeMap<u16, usize>,
    server_errors: usize,
    failures: Vec<String>,
    failed: usize,
}

fn expected_status(expect: &Expect) -> u16 {
    match expect {
        Expect::Handled => 200,
        Expect::Rejected(status, _) | Expect::Status(status) => *status,
    }
}

/// `total` deliveries cycling through the case table, `in_flight` at a time: every answer is
/// the one the table expects, and none is a 5xx.
async fn mixed_deliveries(name: &str, total: usize, in_flight: usize) {
    let receiver = start(name);
    let addr = receiver.addr;
    let table: Arc<Vec<(Case, WireRequest)>> = Arc::new(
        support::cases()
            .into_iter()
            .map(|case| {
                let request = case.request();
                (case, request)
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (table, next, tally) = (Arc::clone(&table), Arc::clone(&next), Arc::clone(&tally));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let (case, request) = &table[n % table.len()];
                    let outcome =
                        tokio::time::timeout(FLOWTRIQ_TIMEOUT, tcp::send(addr, request.clone()))
                            .await
                            .unwrap_or_else(|_| Err("no answer in time".to_owned()));
                    let mut tally = tally.lock().unwrap();
                    *tally
                        .expected
                        .entry(expected_status(&case.expect))
                        .or_default() += 1;
                    let checked = outcome.and_then(|response| {
                        *tally.received.entry(response.status).or_default() += 1;
                        if response.status >= 500 {
                            tally.server_errors += 1;
                        }
                        case.check_with(request, &response, false)
                    });
                    if let Err(why) = checked {
                        tally.failed += 1;
                        if tally.failures.len() < 20 {
                            tally.failures.push(format!("  #{n} {}: {why}", case.name));
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let tally = tally.lock().unwrap();
    eprintln!(
        "{name}: {total} mixed deliveries, {in_flight} in flight, in {:?}; expected per \
         status {:?}; received {:?}; wrong {}; 5xx {}",
        started.elapsed(),
        tally.expected,
        tally.received,
        tally.failed,
        tally.server_errors
    );
    assert_eq!(tally.expected.values().sum::<usize>(), total, "{name}");
    assert!(
        tally.failed == 0 && tally.server_errors == 0,
        "{name}: {} of {total} answers wrong, {} 5xx; first ones:\n{}",
        tally.failed,
        tally.server_errors,
        tally.failures.join("\n")
    );
}

/// A case that waits on a receiver's timeouts: `long("why")` for one the receiver passes,
/// `known_gap("why")` for one it is known to fail. Both are ignored by default; the case is a
/// module named after it, holding one test named `long` or `known_gap`, so that
/// `--skip known_gap` leaves out every known gap.
macro_rules! timed_case {
    ($name:ident: long($reason:literal) => $run:expr) => {
        mod $name {
            use super::NAME;

            #[tokio::test]
            #[ignore = $reason]
            async fn long() {
                $run.await;
            }
        }
    };
    ($name:ident: known_gap($reason:literal) => $run:expr) => {
        mod $name {
            use super::NAME;

            #[tokio::test]
            #[ignore = $reason]
            async fn known_gap() {
                $run.await;
            }
        }
    };
}

/// One module of tests per example receiver, all inside `mod hostile` so that the long cases
/// can be selected by name.
macro_rules! receivers {
    ($(
        $receiver:ident {
            trickled_body_is_cut_off: $body:ident($body_why:literal),
            trickled_head_is_cut_off: $head:ident($head_why:literal),
            idle_connections_past_the_fd_limit: $fd:ident($fd_why:literal),
        }
    )*) => { mod hostile { $(
        mod $receiver {
            const NAME: &str = stringify!($receiver);

            #[tokio::test]
            async fn trickled_body_does_not_delay_deliveries() {
                crate::trickled_body_does_not_delay_deliveries(NAME).await;
            }

            #[tokio::test]
            async fn idle_connections_do_not_stop_deliveries() {
                crate::idle_connections_do_not_stop_deliveries(NAME, 200).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mixed_deliveries_are_answered_right() {
                crate::mixed_deliveries(NAME, 1_000, 32).await;
            }

            #[tokio::test]
            #[ignore = "long: 1,000 idle connections"]
            async fn many_idle_connections_do_not_stop_deliveries() {
                crate::idle_connections_do_not_stop_deliveries(NAME, 1_000).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "long: 10,000 mixed deliveries"]
            async fn many_mixed_deliveries_are_answered_right() {
                crate::mixed_deliveries(NAME, 10_000, 32).await;
            }

            timed_case!(trickled_body_is_cut_off: $body($body_why) => crate::trickle_is_cut_off(
                NAME,
                crate::Part::Body,
                crate::REQUEST_TIMEOUT + crate::Duration::from_secs(5),
            ));

            timed_case!(trickled_head_is_cut_off: $head($head_why) => crate::trickle_is_cut_off(
                NAME,
                crate::Part::Head,
                crate::REQUEST_TIMEOUT + crate::Duration::from_secs(5),
            ));

            timed_case!(idle_connections_past_the_fd_limit: $fd($fd_why) =>
                crate::idle_connections_past_the_fd_limit(NAME));
        }
    )* } };
}

receivers! {
    axum_receiver {
        trickled_body_is_cut_off: long("long: waits for the 15 s request timeout"),
        trickled_head_is_cut_off: long("long: waits for the 5 s request-head timeout"),
        idle_connections_past_the_fd_limit: long("long: waits for the 5 s request-head \
            timeout"),
    }
    actix_receiver {
        trickled_body_is_cut_off: long("long: waits for the 15 s request timeout"),
        trickled_head_is_cut_off: long("long: waits for the 5 s client request timeout"),
        idle_connections_past_the_fd_limit: long("long: waits for the 5 s client request \
            timeout"),
    }
    warp_receiver {
        trickled_body_is_cut_off: long("long: waits for the 15 s request timeout"),
        trickled_head_is_cut_off: long("long: waits for the 5 s request-head timeout"),
        idle_connections_past_the_fd_limit: long("long: waits for the 5 s request-head \
            timeout"),
    }
}
