//! Command-line syntax: subcommands, options, help texts and value parsers.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};
use reqwest::Url;

use crate::{payload::EventKind, retry::MAX_TIME_SCALE};

/// Environment variable that holds the secret when `--secret` is not given.
pub(crate) const SECRET_ENV: &str = "FLOWTRIQ_WEBHOOK_SECRET";

const MAIN_EXAMPLES: &str = "\
Examples:
  export FLOWTRIQ_WEBHOOK_SECRET='whsec-from-the-dashboard'
  flowtriq-webhook sign payload.json
  flowtriq-webhook verify --signature 'sha256=…' payload.json
  flowtriq-webhook listen --addr 127.0.0.1:3000
  flowtriq-webhook send --url http://127.0.0.1:3000/webhook --event attack_start
  flowtriq-webhook simulate --url http://127.0.0.1:3000/webhook --updates 3";

/// Sign, verify, send and receive Flowtriq webhooks.
#[derive(Debug, Parser)]
#[command(
    name = "flowtriq-webhook",
    version,
    about = "Sign, verify, send and receive Flowtriq DDoS-alert webhooks.",
    long_about = "Sign, verify, send and receive Flowtriq DDoS-alert webhooks.\n\n\
        Flowtriq signs each delivery with HMAC-SHA256 over the raw body, keyed with the webhook \
        secret, and sends it as `X-Flowtriq-Signature: sha256=<hex>`.",
    after_help = MAIN_EXAMPLES,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// The webhook secret, as set in the Flowtriq dashboard; prefer the environment variable,
    /// which stays out of the shell history and the process list.
    ///
    /// Repeat the option while rotating secrets: `verify` and `listen` accept any of them,
    /// `sign`, `send` and `simulate` sign with the first.
    #[arg(
        long,
        global = true,
        value_name = "SECRET",
        env = SECRET_ENV,
        hide_env_values = true
    )]
    pub(crate) secret: Vec<String>,

    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the X-Flowtriq-Signature header value for a body.
    #[command(after_help = "\
Examples:
  flowtriq-webhook --secret s3cret sign payload.json
  printf '%s' '{\"event_type\":\"test\"}' | FLOWTRIQ_WEBHOOK_SECRET=s3cret flowtriq-webhook sign")]
    Sign(SignArgs),

    /// Check a signature against a body; exit 0 when valid, 1 when not.
    #[command(
        long_about = "Check a signature against a body: exit 0 when valid, 1 when not (the \
            reason goes to stderr), 2 on bad input.\n\n\
            This checks the signature only, through the same verifier a receiver uses, with no \
            body limit: a correctly signed body that is not a Flowtriq event still counts as \
            valid, with a note on stderr saying why a receiver would answer 400 to it. Add \
            --require-event to count such a body as invalid.",
        after_help = "\
Examples:
  flowtriq-webhook verify --signature \"$(flowtriq-webhook sign payload.json)\" payload.json
  curl -s … | flowtriq-webhook verify --signature 'sha256=3f1c…' -"
    )]
    Verify(VerifyArgs),

    /// Deliver one event to a URL as Flowtriq does, retries included.
    #[command(
        long_about = "Deliver one event to a URL as Flowtriq does: POST, Content-Type: \
            application/json, the X-Flowtriq-Signature header, a 10 s timeout. A non-2xx answer, \
            a timeout or a connection error fails the attempt; it is retried up to 3 times, \
            10 s, 60 s and 5 min after the previous failure (times --time-scale). One line per \
            attempt. Exit 0 once a 2xx came back, 1 when every attempt failed, 2 on bad input.",
        after_help = "\
Examples:
  flowtriq-webhook send --url http://127.0.0.1:3000/webhook --event attack_start
  flowtriq-webhook send --url https://hooks.example.com/flowtriq --payload event.json --no-retry
  flowtriq-webhook send --url http://127.0.0.1:3000/webhook --time-scale 0.1   # waits 1 s, 6 s, 30 s"
    )]
    Send(SendArgs),

    /// Deliver one incident's lifecycle: attack_start, updates, attack_end.
    #[command(
        long_about = "Deliver one incident's lifecycle as Flowtriq would: attack_start, N \
            attack_update with rising peak_pps and peak_bps, then attack_end, all with one \
            incident id and uuid. Each delivery follows the retry policy of `send` and \
            completes before the next one starts. Exit 0 when every event was delivered.",
        after_help = "\
Examples:
  flowtriq-webhook simulate --url http://127.0.0.1:3000/webhook
  flowtriq-webhook simulate --url http://127.0.0.1:3000/webhook --updates 5 --interval 500ms --no-retry"
    )]
    Simulate(SimulateArgs),

    /// Run a verifying receiver that prints each delivery.
    #[command(
        long_about = "Run a verifying receiver: it accepts POST on any path, verifies the \
            signature over the raw body with the library defaults (1 MiB limit), answers 200 \
            with a short JSON body or the rejection's status, and prints one line per delivery \
            to stdout: the event (type, incident, family, severity, peaks, node) or the reason \
            it was rejected. `listening on http://ADDR` goes to stderr once bound. Stop it with \
            Ctrl-C.",
        after_help = "\
Examples:
  flowtriq-webhook listen
  flowtriq-webhook listen --addr 0.0.0.0:8080 --json | jq ."
    )]
    Listen(ListenArgs),
}

/// Options of `sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The body to sign; `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub(crate) file: Option<PathBuf>,
}

/// Options of `verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The X-Flowtriq-Signature header value, `sha256=<64 hex digits>`.
    #[arg(long, short = 's', value_name = "VALUE")]
    pub(crate) signature: String,

    /// Also require the body to be a valid Flowtriq event, as a receiver does.
    #[arg(long)]
    pub(crate) require_event: bool,

    /// The body, byte for byte as received; `-` or nothing reads standard input.
    #[arg(value_name = "FILE|-")]
    pub(crate) file: Option<PathBuf>,
}

/// How deliveries are made, shared by `send` and `simulate`.
#[derive(Debug, Args)]
pub(crate) struct DeliveryArgs {
    /// Where to POST: an http:// or https:// URL.
    #[arg(long, value_name = "URL", value_parser = parse_url)]
    pub(crate) url: Url,

    /// Make a single attempt.
    #[arg(long)]
    pub(crate) no_retry: bool,

    /// Multiply the retry waits (10 s, 60 s, 5 min) by F, e.g. 0.01 for 100 ms, 600 ms, 3 s.
    #[arg(
        long,
        value_name = "F",
        default_value = "1",
        value_parser = parse_time_scale,
        allow_negative_numbers = true
    )]
    pub(crate) time_scale: f64,

    /// Seconds to wait for an answer before an attempt counts as failed [default: 10, as
    /// Flowtriq]. Not affected by --time-scale.
    #[arg(
        long,
        value_name = "SECONDS",
        value_parser = parse_timeout,
        allow_negative_numbers = true
    )]
    pub(crate) timeout: Option<Duration>,
}

/// Options of `send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,

    /// Build a realistic payload of this type with a fresh incident id and uuid [default: test].
    #[arg(long, value_name = "TYPE", conflicts_with = "payload")]
    pub(crate) event: Option<EventKind>,

    /// Send this file's bytes as they are instead; `-` reads standard input.
    #[arg(long, value_name = "FILE|-")]
    pub(crate) payload: Option<PathBuf>,
}

/// Options of `simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    #[command(flatten)]
    pub(crate) delivery: DeliveryArgs,

    /// How many attack_update events between attack_start and attack_end.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub(crate) updates: u32,

    /// Pause between two events, such as `2s`, `500ms`, `1m` or `0`; a bare number is seconds.
    #[arg(
        long,
        value_name = "D",
        default_value = "2s",
        value_parser = parse_interval,
        allow_hyphen_values = true
    )]
    pub(crate) interval: Duration,
}

/// Options of `listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub(crate) addr: String,

    /// Print one JSON object per line instead of readable text.
    #[arg(long)]
    pub(crate) json: bool,
}

/// An absolute http or https URL with a host.
fn parse_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme is `{}`; expected http:// or https://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    Ok(url)
}

fn parse_time_scale(value: &str) -> Result<f64, String> {
    let scale: f64 = value
        .trim()
        .parse()
        .map_err(|_| "expected a number such as 0.01".to_owned())?;
    if !(scale.is_finite() && (0.0..=MAX_TIME_SCALE).contains(&scale)) {
        return Err(format!("expected a number from 0 to {MAX_TIME_SCALE}"));
    }
    Ok(scale)
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    let secs: f64 = value
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds such as 10 or 0.5".to_owned())?;
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err("expected more than 0 and at most 3600 seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// `2s`, `500ms`, `1.5s`, `1m`, `0`, `3` (seconds).
fn parse_interval(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| "expected a duration such as 2s, 500ms or 1m".to_owned())?;
    let factor = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        other => return Err(format!("unknown unit `{other}`; use ms, s or m")),
    };
    let secs = number * factor;
    if !(secs.is_finite() && secs <= 24.0 * 3600.0) {
        return Err("expected at most a day".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn urls() {
        assert!(parse_url("http://127.0.0.1:3000/webhook").is_ok());
        assert!(parse_url("https://hooks.example.com/x").is_ok());
        assert!(parse_url("127.0.0.1:3000").is_err());
        assert!(parse_url("ftp://example.com/").is_err());
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_interval("0"), Ok(Duration::ZERO));
        assert!(parse_interval("-1s").is_err());
        assert!(parse_interval("2h").is_err());
        assert!(parse_interval("").is_err());
    }

    #[test]
    fn scales_and_timeouts() {
        assert_eq!(parse_time_scale("0.01"), Ok(0.01));
        assert!(parse_time_scale("-1").is_err());
        assert!(parse_time_scale("NaN").is_err());
        assert!(parse_time_scale("inf").is_err());
        assert_eq!(parse_timeout("10"), Ok(crate::retry::FLOWTRIQ_TIMEOUT));
        assert_eq!(parse_timeout("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_timeout("0").is_err());
        assert!(parse_timeout("x").is_err());
    }
}
