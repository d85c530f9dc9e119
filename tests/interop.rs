//! Interop with Flowtriq's four reference verifiers (Python, Node.js, PHP, Go), run for real.
//!
//! Each script under `tests/interop/` is the vendor's snippet wrapped in a command line: it
//! prints its own `sha256=<hex>` for a body file and exits 0 when the given header verifies
//! with the vendor's exact comparison. For every body and secret below, the signature this
//! crate makes must verify there, and the signature made there must be ours and verify here.
//! A missing interpreter fails the test and names the Debian package to install.

use std::{
    fmt::{self, Write as _},
    io::ErrorKind,
    path::{Path, PathBuf},
    process::Command,
};

use bytes::Bytes;
use flowtriq_webhook::{Error, Secret, Signature, Verifier, sign};

/// A test failure whose message prints as written, one disagreement a line.
struct Failure(String);

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

/// One of the vendor's reference verifiers and how to run it.
struct Reference {
    language: &'static str,
    program: &'static str,
    /// Arguments before the script path (`go run`).
    program_args: &'static [&'static str],
    script: &'static str,
    debian_package: &'static str,
}

const PYTHON: Reference = Reference {
    language: "Python",
    program: "python3",
    program_args: &[],
    script: "verify.py",
    debian_package: "python3",
};

const NODE: Reference = Reference {
    language: "Node.js",
    program: "node",
    program_args: &[],
    script: "verify.js",
    debian_package: "nodejs",
};

const PHP: Reference = Reference {
    language: "PHP",
    program: "php",
    program_args: &[],
    script: "verify.php",
    debian_package: "php-cli",
};

const GO: Reference = Reference {
    language: "Go",
    program: "go",
    program_args: &["run"],
    script: "verify.go",
    debian_package: "golang-go",
};

/// What a reference verifier said about one body, secret and header.
struct Outcome {
    /// The `sha256=<hex>` it computed itself.
    own: String,
    /// Its exit code: 0 valid, 1 not.
    code: Option<i32>,
    stderr: String,
}

impl Reference {
    fn run(&self, body: &Path, secret: &str, header: &str) -> Result<Outcome, Failure> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/interop")
            .join(self.script);
        let mut command = Command::new(self.program);
        command
            .args(self.program_args)
            .arg(&script)
            .arg(body)
            .arg(secret)
            .arg(header)
            .env_remove("FLOWTRIQ_WEBHOOK_SECRET")
            .env_remove("FLOWTRIQ_SIGNATURE")
            .env_remove("HTTP_X_FLOWTRIQ_SIGNATURE");
        if self.program == "go" {
            // Never fetch a toolchain; the scripts use the standard library only.
            command.env("GOTOOLCHAIN", "local");
            if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
                command.env(
                    "GOCACHE",
                    std::env::temp_dir().join("flowtriq-interop-gocache"),
                );
            }
        }
        let output = command.output().map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                format!(
                    "`{}` is not installed, so the {} reference verifier cannot run: install the \
                     Debian package `{}` (apt-get install {})",
                    self.program, self.language, self.debian_package, self.debian_package
                )
            } else {
                format!("cannot run `{}`: {e}", self.program)
            }
        })?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let own = stdout.lines().next().unwrap_or_default().trim().to_owned();
        if !own.starts_with("sha256=") {
            return Err(Failure(format!(
                "the {} verifier printed no signature (exit {:?}); stdout: {stdout:?}; stderr: \
                 {stderr}",
                self.language,
                output.status.code()
            )));
        }
        Ok(Outcome {
            own,
            code: output.status.code(),
            stderr,
        })
    }
}

struct Body {
    name: &'static str,
    bytes: Bytes,
    /// Whether the bytes are a valid Flowtriq event (otherwise our verifier answers 400 after
    /// the signature check).
    is_event: bool,
}

fn bodies() -> Vec<Body> {
    let mut binary: Vec<u8> = (0..=255u8).collect();
    binary.extend_from_slice(b"\r\n\0\r\x1b[0m\xff\xfe\xef\xbb\xbf");
    binary.extend((0..=255u8).rev());

    let head = br#"{"event_type":"attack_update","incident":{"id":147},"pad":""#;
    let tail = br#""}"#;
    let mut large = head.to_vec();
    large.resize(64 * 1024 - tail.len(), b'x');
    large.extend_from_slice(tail);

    vec![
        Body {
            name: "ascii-json (vendor sample)",
            bytes: Bytes::from_static(include_bytes!(
                "../crates/flowtriq-webhook/tests/data/vendor_sample.json"
            )),
            is_event: true,
        },
        Body {
            name: "non-ascii-utf8-json",
            bytes: Bytes::from(
                r#"{"event_type":"attack_start","incident":{"id":7,"title":"UDP-Flut auf Köln-1 — 攻撃 🚨"},"node":{"name":"köln-1"}}"#,
            ),
            is_event: true,
        },
        Body {
            name: "json-with-crlf",
            bytes: Bytes::from_static(b"{\r\n  \"event_type\": \"test\"\r\n}\r\n"),
            is_event: true,
        },
        Body {
            name: "binary",
            bytes: Bytes::from(binary),
            is_event: false,
        },
        Body {
            name: "empty",
            bytes: Bytes::new(),
            is_event: false,
        },
        Body {
            name: "64-kib-json",
            bytes: Bytes::from(large),
            is_event: true,
        },
    ]
}

const SECRETS: &[(&str, &str)] = &[
    ("ascii", "whsec_9f8e7d6c5b4a3210"),
    ("non-ascii-utf8", "clé-secrète-ключ-🔑"),
    (
        "longer-than-a-block",
        "long-secret-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef-end",
    ),
];

/// Runs every body and secret through `reference` and collects every disagreement.
fn agrees_with(reference: &Reference) -> Result<(), Failure> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let mut failures = String::new();
    let mut checked = 0;

    for (index, body) in bodies().iter().enumerate() {
        let path: PathBuf = dir.path().join(format!("body-{index}"));
        std::fs::write(&path, &body.bytes).map_err(|e| format!("{}: {e}", path.display()))?;

        for (secret_name, secret) in SECRETS {
            let case = format!(
                "{} / body {} / secret {secret_name}",
                reference.language, body.name
            );
            let ours = sign(&Secret::new(*secret), &body.bytes);
            let outcome = reference.run(&path, secret, &ours)?;
            checked += 1;

            // Our signature verifies in the reference verifier...
            if outcome.code != Some(0) {
                let _ = writeln!(
                    failures,
                    "{case}: our {ours} was refused (exit {:?}): {}",
                    outcome.code, outcome.stderr
                );
            }
            // ...the one it computes is ours...
            if outcome.own != ours {
                let _ = writeln!(failures, "{case}: it computed {}, we {ours}", outcome.own);
            }
            // ...and it passes our verifier's signature check.
            let verifier = Verifier::new(Secret::new(*secret));
            match verifier.verify(Some(outcome.own.as_bytes()), body.bytes.clone()) {
                Ok(verified) if body.is_event => {
                    if verified.body() != &body.bytes || verified.signature().to_string() != ours {
                        let _ = writeln!(failures, "{case}: verified a different body");
                    }
                }
                Err(Error::InvalidPayload(_)) if !body.is_event => {}
                other => {
                    let _ = writeln!(
                        failures,
                        "{case}: our verifier answered {other:?} to its {}",
                        outcome.own
                    );
                }
            }
        }
    }

    // The reference verifiers really compare: these must all be refused (exit 1).
    let body = bodies().into_iter().nth(1).ok_or("no non-ASCII body")?;
    let path = dir.path().join("body-1");
    let (_, secret) = SECRETS.get(1).ok_or("no non-ASCII secret")?;
    let tag = Signature::compute(&Secret::new(*secret), &body.bytes);
    let hex = tag.to_hex();
    let mut flipped = *tag.as_bytes();
    if let Some(last) = flipped.last_mut() {
        *last ^= 1;
    }
    let flipped_hex: String = flipped.iter().map(|b| format!("{b:02x}")).collect();
    let refused = [
        ("one bit flipped", format!("sha256={flipped_hex}")),
        ("another body's MAC", sign(&Secret::new(*secret), b"{}")),
        (
            "another secret's MAC",
            sign(&Secret::new("whsec_other"), &body.bytes),
        ),
        (
            "truncated",
            format!("sha256={}", hex.get(..63).unwrap_or_default()),
        ),
        ("bare hex", hex.clone()),
        ("empty", String::new()),
        // The vendor compares text exactly; this crate accepts upper-case hex as the same
        // MAC (DESIGN §3), so a receiver built on it is the more lenient one.
        ("upper-case hex", format!("sha256={}", hex.to_uppercase())),
    ];
    for (what, header) in refused {
        let outcome = reference.run(&path, secret, &header)?;
        checked += 1;
        if outcome.code != Some(1) {
            let _ = writeln!(
                failures,
                "{}: header {what} ({header:?}) gave exit {:?}, expected 1; stderr: {}",
                reference.language, outcome.code, outcome.stderr
            );
        }
        if outcome.own != format!("sha256={hex}") {
            let _ = writeln!(
                failures,
                "{}: with header {what} it computed {}",
                reference.language, outcome.own
            );
        }
    }

    if failures.is_empty() && checked == bodies().len() * SECRETS.len() + 7 {
        Ok(())
    } else {
        Err(Failure(format!(
            "{} reference verifier disagrees ({checked} runs):\n{failures}",
            reference.language
        )))
    }
}

#[test]
fn python_reference_verifier_agrees() -> Result<(), Failure> {
    agrees_with(&PYTHON)
}

#[test]
fn node_reference_verifier_agrees() -> Result<(), Failure> {
    agrees_with(&NODE)
}

#[test]
fn php_reference_verifier_agrees() -> Result<(), Failure> {
    agrees_with(&PHP)
}

#[test]
fn go_reference_verifier_agrees() -> Result<(), Failure> {
    agrees_with(&GO)
}

#[test]
fn a_missing_interpreter_is_a_failure_naming_the_package() {
    let missing = Reference {
        language: "Imaginary",
        program: "flowtriq-no-such-interpreter",
        program_args: &[],
        script: "verify.py",
        debian_package: "imaginary-lang",
    };
    let result = missing.run(Path::new("/dev/null"), "k", "sha256=");
    let message = result.err().map(|failure| failure.0).unwrap_or_default();
    assert!(
        message.contains("install the Debian package `imaginary-lang`"),
        "{message}"
    );
}
