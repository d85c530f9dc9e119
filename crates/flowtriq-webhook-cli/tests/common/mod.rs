//! Helpers shared by the integration tests: the binary, an independent HMAC, a recording HTTP
//! server and a line reader with a deadline.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, Output},
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver},
    },
    thread,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, StatusCode},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Environment variable the tool reads the secret from.
pub(crate) const SECRET_ENV: &str = "FLOWTRIQ_WEBHOOK_SECRET";

/// The binary under test, with the secret variable cleared.
pub(crate) fn bin() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowtriq-webhook"));
    command.env_remove(SECRET_ENV);
    command
}

/// Runs the binary with `stdin` as standard input.
pub(crate) fn run_with_stdin(mut command: Command, stdin: &[u8]) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;

    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the binary starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    // A command that reads a file instead may exit before it takes standard input.
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("the binary finishes")
}

/// `sha256=<hex>` computed here with `hmac` and `sha2`, independently of the tool.
pub(crate) fn expected_header(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Text of a process's output stream.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a bad-input failure: non-zero exit, nothing on stdout, one line on stderr, no panic.
pub(crate) fn assert_one_line_failure(output: &Output) -> String {
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "expected failure, stderr: {stderr}"
    );
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
    stderr
}

/// One request the test server received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// When the handler started.
    pub(crate) at: Instant,
    /// The request headers.
    pub(crate) headers: HeaderMap,
    /// The raw body.
    pub(crate) body: Bytes,
}

impl Recorded {
    /// A header value as text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

/// How the server answers request number `n` (from 0): a status, after a delay.
pub(crate) type Behaviour = dyn Fn(usize) -> (u16, Duration) + Send + Sync;

/// An HTTP server on 127.0.0.1 that records every request and answers as told.
pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT/webhook`.
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    /// Starts the server on a free port in a thread of its own.
    pub(crate) fn start(
        behaviour: impl Fn(usize) -> (u16, Duration) + Send + Sync + 'static,
    ) -> Self {
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let (addr_tx, addr_rx) = mpsc::channel();
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the test server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("a free port");
                addr_tx
                    .send(listener.local_addr().expect("a bound address"))
                    .expect("the test waits for the address");
                let handler = move |headers: HeaderMap, body: Bytes| {
                    let behaviour = Arc::clone(&behaviour);
                    let recorded = Arc::clone(&recorded);
                    async move {
                        let index = {
                            let mut list = recorded.lock().expect("not poisoned");
                            list.push(Recorded {
                                at: Instant::now(),
                                headers,
                                body,
                            });
                            list.len() - 1
                        };
                        let (status, delay) = behaviour(index);
                        tokio::time::sleep(delay).await;
                        let status = StatusCode::from_u16(status).expect("a valid status");
                        (status, format!(r#"{{"request":{index}}}"#))
                    }
                };
                let app = Router::new().fallback(handler);
                axum::serve(listener, app)
                    .await
                    .expect("the test server runs");
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the test server binds");
        Self {
            url: format!("http://{addr}/webhook"),
            requests,
        }
    }

    /// The requests received so far.
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

/// Lines of a child's output stream, read in a thread so that a test can wait with a deadline.
pub(crate) struct Lines {
    rx: Receiver<String>,
}

impl Lines {
    /// Reads `stream` line by line in the background.
    pub(crate) fn new(stream: impl Read + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { rx }
    }

    /// The next line, waiting at most 20 s.
    pub(crate) fn next(&self) -> String {
        self.rx
            .recv_timeout(Duration::from_secs(20))
            .expect("a line within 20 s")
    }
}

/// Kills the child process when dropped, so a failed assertion leaves nothing running.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
