//! `sign` and `verify` run as a process, checked against an independent HMAC, and the
//! bad-input cases every subcommand shares.

// A failing `unwrap`/`expect` is how these tests report a broken setup.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::{fs, path::PathBuf};

use common::{SECRET_ENV, assert_one_line_failure, bin, expected_header, run_with_stdin, text};

const SECRET: &str = "s3cret";
const NON_ASCII_SECRET: &str = "sécret-ключ-秘密-🔑";
const EVENT: &[u8] =
    br#"{"event_type":"attack_start","incident":{"id":147,"severity":"critical"}}"#;

/// A file in a fresh directory of this test's own.
fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "flowtriq-webhook-cli-test-{}-{name}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path
}

fn binary_body() -> Vec<u8> {
    // Every byte value, invalid UTF-8 and NUL included, twice.
    (0..=255u8).chain((0..=255u8).rev()).collect()
}

fn utf8_body() -> Vec<u8> {
    r#"{"event_type":"test","note":"Ataque UDP — 攻撃を検知 🚨","x":"\u00e9"}"#
        .as_bytes()
        .to_vec()
}

fn sign_stdout(secret_via_env: bool, secret: &str, args: &[&str], stdin: &[u8]) -> String {
    let mut command = bin();
    if secret_via_env {
        command.env(SECRET_ENV, secret);
    } else {
        command.args(["--secret", secret]);
    }
    command.arg("sign").args(args);
    let output = run_with_stdin(command, stdin);
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn sign_agrees_with_an_independent_hmac() {
    let bodies = [
        ("binary", binary_body()),
        ("utf8", utf8_body()),
        ("event", EVENT.to_vec()),
        ("empty", Vec::new()),
    ];
    for secret in [SECRET, NON_ASCII_SECRET] {
        for (name, body) in &bodies {
            let expected = format!("{}\n", expected_header(secret.as_bytes(), body));
            let file = temp_file(&format!("{name}.body"), body);
            let file = file.to_str().unwrap();
            // From a file, from stdin with and without `-`, the secret by flag and by env.
            assert_eq!(sign_stdout(false, secret, &[file], b""), expected, "{name}");
            assert_eq!(sign_stdout(true, secret, &[], body), expected, "{name}");
            assert_eq!(sign_stdout(false, secret, &["-"], body), expected, "{name}");
        }
    }
}

#[test]
fn sign_output_is_the_header_value_only() {
    let out = sign_stdout(false, SECRET, &[], EVENT);
    let line = out.strip_suffix('\n').unwrap();
    assert!(!line.contains('\n'));
    let hex = line.strip_prefix("sha256=").unwrap();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
}

fn verify(secrets: &[&str], signature: &str, extra: &[&str], body: &[u8]) -> std::process::Output {
    let mut command = bin();
    for secret in secrets {
        command.args(["--secret", secret]);
    }
    command
        .args(["verify", "--signature", signature])
        .args(extra);
    run_with_stdin(command, body)
}

#[test]
fn verify_exits_0_for_a_valid_signature() {
    for (secret, body) in [
        (SECRET, EVENT.to_vec()),
        (NON_ASCII_SECRET, utf8_body()),
        (NON_ASCII_SECRET, EVENT.to_vec()),
    ] {
        let header = expected_header(secret.as_bytes(), &body);
        let output = verify(&[secret], &header, &[], &body);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert_eq!(text(&output.stdout), "valid (secret #0)\n");
    }
    // Upper-case hex is the same MAC.
    let upper = expected_header(SECRET.as_bytes(), EVENT).to_uppercase();
    let output = verify(&[SECRET], &upper, &[], EVENT);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // From a file too.
    let file = temp_file("verify.json", EVENT);
    let header = expected_header(SECRET.as_bytes(), EVENT);
    let output = verify(&[SECRET], &header, &[file.to_str().unwrap()], b"ignored");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn verify_names_the_matching_secret_while_rotating() {
    let header = expected_header(b"old-secret", EVENT);
    let output = verify(&["new-secret", "old-secret"], &header, &[], EVENT);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "valid (secret #1)\n");
}

#[test]
fn verify_exits_1_with_the_reason() {
    let header = expected_header(SECRET.as_bytes(), EVENT);
    let cases: [(&str, String, &[u8], &str); 4] = [
        (
            "tampered body",
            header.clone(),
            b"{\"event_type\":\"test\"}",
            "signature_mismatch",
        ),
        (
            "wrong secret",
            expected_header(b"other", EVENT),
            EVENT,
            "signature_mismatch",
        ),
        (
            "truncated",
            header.get(..40).unwrap().to_owned(),
            EVENT,
            "invalid_signature_length",
        ),
        (
            "no prefix",
            header.strip_prefix("sha256=").unwrap().to_owned(),
            EVENT,
            "missing_signature_prefix",
        ),
    ];
    for (name, signature, body, code) in cases {
        let output = verify(&[SECRET], &signature, &[], body);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}");
        assert!(stderr.contains(code), "{name}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{name}: {stderr}");
        // The reason never gives away the expected signature.
        assert!(
            !stderr.contains(header.strip_prefix("sha256=").unwrap()),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn verify_checks_the_signature_only_unless_an_event_is_required() {
    let body = binary_body();
    let header = expected_header(SECRET.as_bytes(), &body);
    let output = verify(&[SECRET], &header, &[], &body);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "valid (secret #0)\n");
    assert!(text(&output.stderr).contains("not a Flowtriq event"));

    let output = verify(&[SECRET], &header, &["--require-event"], &body);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("invalid_payload"));
}

#[test]
fn no_secret_is_one_line_and_exit_2() {
    for args in [
        &["sign"][..],
        &["verify", "--signature", "sha256=00"],
        &["send", "--url", "http://127.0.0.1:9/"],
        &["simulate", "--url", "http://127.0.0.1:9/"],
        &["listen", "--addr", "127.0.0.1:0"],
    ] {
        let mut command = bin();
        command.args(args);
        let stderr = assert_one_line_failure(&run_with_stdin(command, EVENT));
        assert!(stderr.contains(SECRET_ENV), "{args:?}: {stderr}");
    }
    let mut command = bin();
    command.env(SECRET_ENV, "").arg("sign");
    assert_one_line_failure(&run_with_stdin(command, EVENT));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let missing = std::env::temp_dir().join("flowtriq-webhook-cli-test-does-not-exist.json");
    let missing = missing.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["sign", missing], "cannot read"),
        (
            &["verify", "--signature", "sha256=00", missing],
            "cannot read",
        ),
        (
            &["send", "--url", "http://127.0.0.1:9/", "--payload", missing],
            "cannot read",
        ),
        (&["send", "--url", "not a url"], "--url"),
        (&["send", "--url", "ftp://example.com/hook"], "http"),
        (
            &[
                "send",
                "--url",
                "http://127.0.0.1:9/",
                "--event",
                "attack_paused",
            ],
            "attack_paused",
        ),
        (
            &["send", "--url", "http://127.0.0.1:9/", "--time-scale", "-1"],
            "--time-scale",
        ),
        (
            &["send", "--url", "http://127.0.0.1:9/", "--timeout", "0"],
            "--timeout",
        ),
        (&["send"], "--url"),
        (
            &[
                "simulate",
                "--url",
                "http://127.0.0.1:9/",
                "--interval",
                "soon",
            ],
            "--interval",
        ),
        (&["listen", "--addr", "not-an-address"], "cannot listen"),
        (&["verify", "body.json"], "--signature"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, needle) in cases {
        let mut command = bin();
        command.args(["--secret", SECRET]).args(*args);
        let stderr = assert_one_line_failure(&run_with_stdin(command, EVENT));
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for subcommand in ["sign", "verify", "send", "simulate", "listen"] {
        let output = bin().args([subcommand, "--help"]).output().unwrap();
        assert!(output.status.success(), "{subcommand}");
        let help = text(&output.stdout);
        assert!(help.contains("Examples:"), "{subcommand}: {help}");
        assert!(
            help.contains(&format!("flowtriq-webhook {subcommand}"))
                || help.contains(&format!("flowtriq-webhook --secret s3cret {subcommand}")),
            "{subcommand}: {help}"
        );
    }
    let verify_help = text(&bin().args(["verify", "--help"]).output().unwrap().stdout);
    assert!(verify_help.contains("signature only"), "{verify_help}");
}
