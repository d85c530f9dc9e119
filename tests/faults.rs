//! Faults end to end: two instances of a de-duplicating example receiver share one
//! `redis-server`, `flowtriq-webhook send` processes deliver a few hundred distinct events
//! to them with Flowtriq's retry schedule (time-scaled), and Redis is stopped and restarted
//! on the same port in the middle.
//!
//! What the senders see is the measure: every event must end with exit 0 and exactly one
//! echo of the event (the answer of the attempt whose handler ran), none answered
//! `{"duplicate":true}` and none lost once the schedule ran out. Afterwards each event is sent
//! once more to the other instance: one handled after the restart must be a duplicate there;
//! one handled before the stop is handled again, since the restarted Redis (no persistence)
//! starts empty.
//!
//! Needs `redis-server` and the CLI binary, which `cargo test --workspace` builds. Each example
//! receiver runs it; a new one joins the `receivers!` list at the bottom.

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
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use flowtriq_webhook::{Secret, sign};
use flowtriq_webhook_redis::test_support::RedisServer;
use serde_json::{Value, json};
use support::{
    WireRequest,
    receiver::{Options, Receiver},
    tcp,
};

/// Distinct events, alternating between the two instances.
const EVENTS: usize = 200;
/// `send` processes running at once.
const CONCURRENT_SENDS: usize = 16;
/// Flowtriq's retry waits (10 s, 60 s, 5 min) times this: 0.1 s, 0.6 s, 3 s.
const TIME_SCALE: &str = "0.01";
/// How long Redis stays down: well inside the scaled schedule's last retry.
const OUTAGE: Duration = Duration::from_secs(1);
const EVENT_TYPES: [&str; 4] = ["attack_start", "attack_update", "attack_end", "test"];

/// One event: its own incident id, in its own file.
struct Event {
    incident_id: u64,
    event_type: &'static str,
    file: PathBuf,
}

/// One attempt's answer, as `send` printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// 200 with the echo of this event: its handler ran.
    Echo,
    /// 200 `{"duplicate":true}`.
    Duplicate,
    /// Any other HTTP answer.
    Status(u16, String),
    /// No HTTP answer (connection refused, timeout).
    Unanswered(String),
}

/// What one `send` process came to.
#[derive(Debug)]
struct Sent {
    exit_ok: bool,
    answers: Vec<Answer>,
    started: Instant,
    finished: Instant,
    output: String,
}

fn write_events(dir: &Path) -> Vec<Event> {
    (0..EVENTS)
        .map(|n| {
            let event_type = EVENT_TYPES[n % EVENT_TYPES.len()];
            let incident_id = 10_000 + n as u64;
            let mut body: Value =
                serde_json::from_slice(&support::vendor_sample(event_type)).unwrap();
            body["incident"]["id"] = json!(incident_id);
            let file = dir.join(format!("event-{n}.json"));
            std::fs::write(&file, body.to_string()).unwrap();
            Event {
                incident_id,
                event_type,
                file,
            }
        })
        .collect()
}

/// Classifies the body of `attempt N/M: HTTP <status> in <elapsed>[: <body>][; ...]`.
fn parse_attempt(line: &str, event: &Event) -> Option<Answer> {
    let (_, rest) = line.strip_prefix("attempt ")?.split_once(": ")?;
    let Some(http) = rest.strip_prefix("HTTP ") else {
        return Some(Answer::Unanswered(rest.to_owned()));
    };
    let status: u16 = http.get(..3)?.parse().ok()?;
    let body = http.split_once(": ").map_or("", |(_, body)| body);
    let body = ["; next attempt in ", "; giving up"]
        .iter()
        .find_map(|tail| body.rfind(tail).map(|at| &body[..at]))
        .unwrap_or(body);
    Some(classify(status, body, event))
}

/// What an answer to `event` was.
fn classify(status: u16, body: &str, event: &Event) -> Answer {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let echo = json!({
        "event_type": event.event_type,
        "incident_id": event.incident_id,
        "node": "web-prod-1",
    });
    match status {
        200 if json == echo => Answer::Echo,
        200 if json == json!({ "duplicate": true }) => Answer::Duplicate,
        _ => Answer::Status(status, body.to_owned()),
    }
}

/// Delivers `event` to `url` with `flowtriq-webhook send`, Flowtriq's schedule time-scaled.
fn send(cli: &Path, url: &str, event: &Event) -> Sent {
    let started = Instant::now();
    let output = Command::new(cli)
        .env_clear()
        .env("FLOWTRIQ_WEBHOOK_SECRET", support::SECRET)
        .arg("send")
        .args(["--url", url])
        .arg("--payload")
        .arg(&event.file)
        .args(["--time-scale", TIME_SCALE, "--timeout", "5"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cli.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answers = stdout
        .lines()
        .filter_map(|line| parse_attempt(line, event))
        .collect();
    Sent {
        exit_ok: output.status.success(),
        answers,
        started,
        finished: Instant::now(),
        output: format!("{stdout}{}", String::from_utf8_lossy(&output.stderr)),
    }
}

/// Sends every event, alternating between the two instances, `CONCURRENT_SENDS` processes
/// at a time; `on_progress` sees how many have finished, from the calling thread, until all
/// have.
fn send_all(
    cli: &Path,
    urls: &[String; 2],
    events: &[Event],
    mut on_progress: impl FnMut(usize),
) -> Vec<Sent> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Sent>>> = Mutex::new((0..events.len()).map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..CONCURRENT_SENDS {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(event) = events.get(n) else { break };
                    let sent = send(cli, &urls[n % 2], event);
                    results.lock().unwrap()[n] = Some(sent);
                    done.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        loop {
            let finished = done.load(Ordering::SeqCst);
            on_progress(finished);
            if finished == events.len() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|sent| sent.expect("every event was sent"))
        .collect()
}

/// Sends each event's file once more, as it is, event `n` to `addrs[n % 2]`, over the shared
/// TCP client, `CONCURRENT_SENDS` at a time.
fn resend_all(addrs: [SocketAddr; 2], events: &[Event]) -> Vec<Result<Answer, String>> {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let requests: Vec<WireRequest> = events
        .iter()
        .map(|event| {
            let body = std::fs::read(&event.file).unwrap();
            WireRequest {
                signature: Some(sign(&Secret::new(support::SECRET), &body)),
                body,
                chunked: false,
            }
        })
        .collect();
    runtime.block_on(async {
        let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_SENDS));
        let tasks: Vec<_> = requests
            .into_iter()
            .enumerate()
            .map(|(n, request)| {
                let slots = Arc::clone(&slots);
                tokio::spawn(async move {
                    let _slot = slots.acquire_owned().await;
                    tcp::send(addrs[n % 2], request).await
                })
            })
            .collect();
        let mut answers = Vec::with_capacity(events.len());
        for (event, task) in events.iter().zip(tasks) {
            let answer = task.await.map_err(|e| e.to_string()).and_then(|sent| {
                let response = sent?;
                let body = String::from_utf8_lossy(&response.body);
                Ok(classify(response.status, &body, event))
            });
            answers.push(answer);
        }
        answers
    })
}

/// Counts the log lines of the receivers that contain `needle`.
fn log_lines(logs: &[PathBuf], needle: &str) -> usize {
    logs.iter()
        .map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .filter(|line| line.contains(needle))
                .count()
        })
        .sum()
}

fn redis_restart_loses_and_repeats_nothing(name: &str) {
    let cli = support::receiver::cli().unwrap_or_else(|e| panic!("{e}"));
    let mut redis = RedisServer::start().unwrap_or_else(|e| {
        panic!("{name}: redis-server is needed for this test ({e}); apt-get install redis-server")
    });
    let dir = tempfile::tempdir().unwrap();
    let redis_url = redis.url();
    let logs = [dir.path().join("a.log"), dir.path().join("b.log")];
    let start = |log: &Path| {
        Receiver::start_with(
            name,
            &Options {
                env: &[("FLOWTRIQ_DEDUP", &redis_url), ("RUST_LOG", "warn")],
                stderr: Some(log),
                ..Options::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut instances = [start(&logs[0]), start(&logs[1])];
    let urls = [instances[0].url(), instances[1].url()];
    let events = write_events(dir.path());

    // Redis goes down once a third of the events are through, and comes back after OUTAGE.
    let began = Instant::now();
    let mut stopped_at = None;
    let mut restarted_at = None;
    let sent = send_all(&cli, &urls, &events, |finished| {
        if stopped_at.is_none() && finished >= EVENTS / 3 {
            redis.stop();
            stopped_at = Some(Instant::now());
        }
        if restarted_at.is_none() && stopped_at.is_some_and(|at| at.elapsed() >= OUTAGE) {
            redis
                .restart()
                .unwrap_or_else(|e| panic!("{name}: redis-server did not restart: {e}"));
            restarted_at = Some(Instant::now());
        }
    });
    let (stopped_at, restarted_at) = (stopped_at.unwrap(), restarted_at.unwrap());

    let mut tally: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = vec![];
    for (event, sent) in events.iter().zip(&sent) {
        for answer in &sent.answers {
            let key = match answer {
                Answer::Echo => "echo".to_owned(),
                Answer::Duplicate => "duplicate".to_owned(),
                Answer::Status(status, _) => status.to_string(),
                Answer::Unanswered(_) => "no answer".to_owned(),
            };
            *tally.entry(key).or_default() += 1;
        }
        let echoes = sent.answers.iter().filter(|a| **a == Answer::Echo).count();
        if !sent.exit_ok || echoes != 1 || sent.answers.last() != Some(&Answer::Echo) {
            failures.push(format!(
                "  incident {}: exit ok {}, {echoes} echoes:\n{}",
                event.incident_id, sent.exit_ok, sent.output
            ));
        }
    }
    let attempts: usize = sent.iter().map(|s| s.answers.len()).sum();
    let store_failures = log_lines(&logs, "delivery store failed");
    let unrecorded = log_lines(&logs, "could not record the delivery as handled");
    eprintln!(
        "{name} x2 on one Redis, down for {:?} after {} events, {:?} in all: {EVENTS} events, \
         {attempts} attempts, answers {tally:?}; receivers logged {store_failures} store \
         failures and {unrecorded} handled deliveries they could not record",
        restarted_at - stopped_at,
        EVENTS / 3,
        began.elapsed(),
    );
    assert!(
        failures.is_empty(),
        "{name}: {} of {EVENTS} events did not end with exactly one echo:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        tally.get("503").is_some_and(|&n| n > 0),
        "{name}: no attempt met the outage: {tally:?}"
    );
    for instance in &mut instances {
        assert!(instance.is_running(), "{name}: an instance exited");
    }

    // Each event once more, the same bytes, to the instance that did not get it.
    let addrs = [instances[1].addr, instances[0].addr];
    let again = resend_all(addrs, &events);
    let (mut duplicates, mut handled_again, mut wrong) = (0, 0, vec![]);
    for ((event, first), second) in events.iter().zip(&sent).zip(&again) {
        let before_stop = first.finished < stopped_at;
        let after_restart = first.started > restarted_at;
        match second {
            Ok(Answer::Duplicate) if !before_stop => duplicates += 1,
            Ok(Answer::Echo) if !after_restart => handled_again += 1,
            other => wrong.push(format!(
                "  incident {} (first sent {}): {other:?}",
                event.incident_id,
                if before_stop {
                    "before the stop"
                } else if after_restart {
                    "after the restart"
                } else {
                    "across the outage"
                }
            )),
        }
    }
    eprintln!(
        "{name}: sent again to the other instance: {duplicates} duplicates, {handled_again} \
         handled again (handled before the restart, which forgot them)"
    );
    assert!(
        wrong.is_empty(),
        "{name}: {} events sent again were answered unexpectedly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// One module per de-duplicating example receiver.
macro_rules! receivers {
    ($($receiver:ident),* $(,)?) => {$(
        mod $receiver {
            #[test]
            fn redis_restart_loses_no_event_and_handles_none_twice() {
                super::redis_restart_loses_and_repeats_nothing(stringify!($receiver));
            }
        }
    )*};
}

receivers!(axum_receiver, actix_receiver, warp_receiver);
