//! Delivering a signed body the way Flowtriq does: POST, headers, timeout and retries.

use std::{
    io::{IsTerminal, Write},
    time::{Duration, Instant},
};

use bytes::Bytes;
use reqwest::{
    Client, StatusCode, Url,
    header::{CONTENT_TYPE, HeaderValue},
    redirect,
};

use crate::{
    Failure,
    cli::DeliveryArgs,
    retry::{FLOWTRIQ_TIMEOUT, RetrySchedule},
    units::format_duration,
};

/// How much of a response body is read to show in the attempt line.
const BODY_PREVIEW_BYTES: usize = 4096;
/// How many characters of it are shown.
const BODY_PREVIEW_CHARS: usize = 160;

/// Makes deliveries to one URL under one retry schedule.
#[derive(Debug)]
pub(crate) struct Sender {
    client: Client,
    url: Url,
    timeout: Duration,
    schedule: RetrySchedule,
    countdown: bool,
}

/// What one attempt came to.
enum Attempt {
    /// An HTTP answer, with the start of its body.
    Answered { status: StatusCode, body: String },
    /// No answer: timeout, connection or protocol error.
    Failed(String),
}

impl Sender {
    /// A sender for the URL, timeout and schedule in `args`.
    pub(crate) fn new(args: &DeliveryArgs) -> Result<Self, Failure> {
        let schedule = if args.no_retry {
            RetrySchedule::no_retry()
        } else {
            RetrySchedule::flowtriq(args.time_scale).ok_or_else(|| {
                Failure::input(format!("invalid --time-scale {}", args.time_scale))
            })?
        };
        let client = Client::builder()
            .user_agent(concat!("flowtriq-webhook-cli/", env!("CARGO_PKG_VERSION")))
            // A webhook sender does not follow redirects: a 3xx is a failed attempt.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| Failure::input(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Self {
            client,
            url: args.url.clone(),
            timeout: args.timeout.unwrap_or(FLOWTRIQ_TIMEOUT),
            schedule,
            countdown: std::io::stderr().is_terminal(),
        })
    }

    /// The URL deliveries go to.
    pub(crate) fn url(&self) -> &Url {
        &self.url
    }

    /// How many attempts a delivery may take.
    pub(crate) fn attempts(&self) -> usize {
        self.schedule.attempts()
    }

    /// Delivers `body` with its signature header value, retrying on failure, and prints one
    /// line per attempt (after `indent`). Returns whether a 2xx came back.
    pub(crate) async fn deliver(&self, body: Bytes, signature: &str, indent: &str) -> bool {
        let attempts = self.attempts();
        for number in 1..=attempts {
            let started = Instant::now();
            let outcome = self.attempt(body.clone(), signature).await;
            let elapsed = format_duration(started.elapsed());
            let (delivered, what) = match outcome {
                Attempt::Answered { status, body } => {
                    let mut what = format!("HTTP {status} in {elapsed}");
                    if !body.is_empty() {
                        what.push_str(": ");
                        what.push_str(&body);
                    }
                    (status.is_success(), what)
                }
                Attempt::Failed(reason) => (false, format!("{reason} after {elapsed}")),
            };
            let next = if delivered {
                None
            } else {
                self.schedule.delay_after(number)
            };
            let tail = match next {
                Some(delay) => format!("; next attempt in {}", format_duration(delay)),
                None if !delivered && attempts > 1 => "; giving up".to_owned(),
                None => String::new(),
            };
            outln!("{indent}attempt {number}/{attempts}: {what}{tail}");
            if delivered {
                return true;
            }
            let Some(delay) = next else { break };
            self.wait(delay, number + 1).await;
        }
        false
    }

    async fn attempt(&self, body: Bytes, signature: &str) -> Attempt {
        let signature = match HeaderValue::from_str(signature) {
            Ok(value) => value,
            Err(e) => return Attempt::Failed(format!("invalid signature header: {e}")),
        };
        let request = self
            .client
            .post(self.url.clone())
            .timeout(self.timeout)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(flowtriq_webhook::SIGNATURE_HEADER, signature)
            .body(body);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Attempt::Failed(self.describe(&e)),
        };
        let status = response.status();
        let mut preview = Vec::new();
        while preview.len() < BODY_PREVIEW_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => preview.extend_from_slice(&chunk),
                Ok(None) => break,
                // The status decides the attempt; a body cut short only shortens the preview.
                Err(e) if !e.is_timeout() => break,
                Err(e) => return Attempt::Failed(self.describe(&e)),
            }
        }
        Attempt::Answered {
            status,
            body: one_line_preview(&preview),
        }
    }

    /// One line on why a request got no answer.
    fn describe(&self, error: &reqwest::Error) -> String {
        if error.is_timeout() {
            return format!("no answer within {}", format_duration(self.timeout));
        }
        // The innermost cause is the one that says what happened ("Connection refused").
        let mut cause: &dyn std::error::Error = error;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        if error.is_connect() {
            format!("cannot connect: {cause}")
        } else {
            format!("request failed: {cause}")
        }
    }

    /// Waits before attempt `next`, with a countdown on stderr when it is a terminal.
    async fn wait(&self, delay: Duration, next: usize) {
        if !self.countdown || delay < Duration::from_secs(1) {
            tokio::time::sleep(delay).await;
            return;
        }
        let end = Instant::now() + delay;
        let mut stderr = std::io::stderr();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            let _ = write!(
                stderr,
                "\r\x1b[2K  attempt {next} in {}:{:02}",
                secs / 60,
                secs % 60
            );
            let _ = stderr.flush();
            tokio::time::sleep(left.min(Duration::from_millis(200))).await;
        }
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
}

/// The start of a response body on one line: control characters become spaces.
fn one_line_preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > BODY_PREVIEW_CHARS {
        out = out.chars().take(BODY_PREVIEW_CHARS).collect();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_one_short_line() {
        assert_eq!(
            one_line_preview(b"{\"error\":\n  \"boom\"}\r\n"),
            "{\"error\": \"boom\"}"
        );
        assert_eq!(one_line_preview(b""), "");
        let long = one_line_preview(&[b'a'; 1000]);
        assert_eq!(long.chars().count(), BODY_PREVIEW_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(one_line_preview(b"\xff ok"), "\u{fffd} ok");
    }
}
