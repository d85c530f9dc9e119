//! `listen` as a child process on a free port: it accepts what `send` delivers and rejects a
//! forged delivery, printing one line for each.

// A failing `unwrap`/`expect` is how these tests report a broken setup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;

use common::{KillOnDrop, Lines, SECRET_ENV, bin, text};
use serde_json::Value;

const SECRET: &str = "listen-s3cret";

/// A running `listen` with its stdout lines and base URL.
struct Listener {
    _child: KillOnDrop,
    stdout: Lines,
    url: String,
}

fn start_listen(extra: &[&str]) -> Listener {
    let mut child = bin()
        .env(SECRET_ENV, SECRET)
        .args(["listen", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Lines::new(child.stdout.take().unwrap());
    let stderr = Lines::new(child.stderr.take().unwrap());
    let child = KillOnDrop(child);
    let first = stderr.next();
    assert!(first.starts_with("listening on http://"), "{first}");
    let addr = first.strip_prefix("listening on http://").unwrap();
    Listener {
        _child: child,
        stdout,
        url: format!("http://{addr}/webhook"),
    }
}

/// Runs `send` with `secret` and returns its stdout and whether it exited 0.
fn send(url: &str, secret: &str, event: &str) -> (String, bool) {
    let output = bin()
        .env(SECRET_ENV, secret)
        .args(["send", "--url", url, "--event", event, "--no-retry"])
        .output()
        .unwrap();
    (text(&output.stdout), output.status.success())
}

/// `incident=N` from send's first line.
fn incident_of(send_stdout: &str) -> String {
    send_stdout
        .split_whitespace()
        .find(|word| word.starts_with("incident="))
        .unwrap()
        .to_owned()
}

#[test]
fn listen_accepts_a_send_and_rejects_a_forgery() {
    let listener = start_listen(&[]);

    let (out, delivered) = send(&listener.url, SECRET, "attack_start");
    assert!(delivered, "{out}");
    assert!(out.contains("HTTP 200 OK"), "{out}");
    let line = listener.stdout.next();
    assert!(line.starts_with("accepted attack_start "), "{line}");
    assert!(line.contains(&format!(" {} ", incident_of(&out))), "{line}");
    for part in [
        "family=udp_flood",
        "severity=critical",
        "peak=2.45 Mpps / 1.55 Gbps",
        "node=web-prod-1 (203.0.113.10)",
        "secret=#0",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }

    // Signed with another secret: refused with 401 and the reason.
    let (out, delivered) = send(&listener.url, "forged-secret", "attack_end");
    assert!(!delivered, "{out}");
    assert!(out.contains("HTTP 401"), "{out}");
    assert!(out.contains("signature_mismatch"), "{out}");
    let line = listener.stdout.next();
    assert!(
        line.starts_with("rejected 401 signature_mismatch"),
        "{line}"
    );

    // The receiver is still up after a rejection.
    let (out, delivered) = send(&listener.url, SECRET, "test");
    assert!(delivered, "{out}");
    assert!(listener.stdout.next().starts_with("accepted test "));
}

#[test]
fn listen_json_prints_one_object_per_line() {
    let listener = start_listen(&["--json"]);

    let (out, delivered) = send(&listener.url, SECRET, "attack_update");
    assert!(delivered, "{out}");
    let accepted: Value = serde_json::from_str(&listener.stdout.next()).unwrap();
    assert_eq!(accepted.pointer("/accepted"), Some(&Value::Bool(true)));
    assert_eq!(
        accepted
            .pointer("/event/event_type")
            .and_then(Value::as_str),
        Some("attack_update")
    );
    let id = incident_of(&out);
    let id = id.strip_prefix("incident=").unwrap();
    assert_eq!(
        accepted
            .pointer("/event/incident/id")
            .map(ToString::to_string),
        Some(id.to_owned())
    );

    let (_, delivered) = send(&listener.url, "forged-secret", "test");
    assert!(!delivered);
    let rejected: Value = serde_json::from_str(&listener.stdout.next()).unwrap();
    assert_eq!(rejected.pointer("/accepted"), Some(&Value::Bool(false)));
    assert_eq!(
        rejected.pointer("/status").and_then(Value::as_u64),
        Some(401)
    );
    assert_eq!(
        rejected.pointer("/error").and_then(Value::as_str),
        Some("signature_mismatch")
    );
}
