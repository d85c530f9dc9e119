//! What the example receivers share: their configuration from the environment (DESIGN §4)
//! and the answer they give to a verified event. The cross-adapter tests use the same answer,
//! so every framework is held to one contract.

use std::{fmt, io::IsTerminal as _, net::SocketAddr, process::ExitCode, time::Duration};

use flowtriq_webhook::{Deduplicator, Event, Receiver, Verifier};
use flowtriq_webhook_redis::RedisStore;
use serde_json::{Value, json};

/// The body an example receiver answers a verified event with:
/// `{"event_type": <as sent>, "incident_id": <incident.id or null>, "node": <node.name or null>}`.
pub fn echo(event: &Event) -> Value {
    json!({
        "event_type": event.event_type.as_str(),
        "incident_id": event.incident_id(),
        "node": event.node_name(),
    })
}

/// Logging for the example receivers: to stderr, filtered by `RUST_LOG` (`info` by default).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Binds `addr` and prints `listening on http://ADDR` with the bound address (port 0
/// resolved); on failure prints one line, `{program}: ...`.
#[allow(clippy::print_stdout, clippy::print_stderr)] // the lines a user reads
pub async fn bind(program: &str, addr: SocketAddr) -> Result<tokio::net::TcpListener, ExitCode> {
    let bound = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener.local_addr().map(|local| (listener, local)),
        Err(error) => Err(error),
    };
    match bound {
        Ok((listener, local)) => {
            println!("listening on http://{local}");
            Ok(listener)
        }
        Err(error) => {
            eprintln!("{program}: cannot listen on {addr}: {error}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// The longest a request may take, head, body and handler included (Flowtriq itself gives up
/// after 10 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest a connection may take to send a request head, idle keep-alive connections
/// included, so silent or trickling clients cannot hold connections (and file descriptors).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves a tower service (an axum `Router`, `warp::service(routes)`) over HTTP/1.1 with the
/// timeouts `axum::serve` and `warp::serve` leave unset: [`HEAD_TIMEOUT`] to read a request
/// head, and [`REQUEST_TIMEOUT`] for the whole request, answered `408`.
pub async fn serve<S, B>(listener: tokio::net::TcpListener, service: S)
where
    S: tower::Service<http::Request<hyper::body::Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
    B: http_body::Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = tower::ServiceBuilder::new()
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .service(service);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection closed: {error}");
            }
        });
    }
}

/// Sends the raw HTTP/1.1 `request` on a new connection to `addr` and returns the bytes of the
/// answer, with the read error that ended them, if any.
///
/// It reads while it writes. A receiver refuses an oversized body from its `Content-Length`
/// alone, answers 413 and closes the connection with the body unread; a client that must finish
/// writing before it reads then sometimes gets a reset connection instead of the answer. Reading
/// stops once `complete` accepts the bytes read so far, or when the server closes.
pub async fn exchange(
    addr: SocketAddr,
    request: Vec<u8>,
    complete: impl Fn(&[u8]) -> bool,
) -> std::io::Result<(Vec<u8>, Option<std::io::Error>)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        // After an early answer the write fails; the answer is what counts. The writer is held
        // until then: dropping it would half-close the connection, which a server may take as
        // the client leaving.
        if writer.write_all(&request).await.is_ok() {
            let _ = writer.flush().await;
        }
        std::future::pending::<()>().await;
    });
    let mut raw = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    // A reset after the answer still leaves what was read before it.
    let read_error = loop {
        match reader.read(&mut buf).await {
            Ok(0) => break None,
            Ok(n) => {
                raw.extend_from_slice(buf.get(..n).unwrap_or_default());
                if complete(&raw) {
                    break None;
                }
            }
            Err(error) => break Some(error),
        }
    };
    write.abort();
    Ok((raw, read_error))
}

/// Where the receivers remember handled deliveries (`FLOWTRIQ_DEDUP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    /// No de-duplication (the default).
    Off,
    /// In this process's memory.
    Memory,
    /// On the Redis server at this `redis://` URL.
    Redis(String),
}

/// The example receivers' configuration, read from the environment.
#[derive(Clone)]
pub struct ReceiverConfig {
    /// `FLOWTRIQ_WEBHOOK_SECRET`, required.
    pub verifier: Verifier,
    /// `FLOWTRIQ_LISTEN`, default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `FLOWTRIQ_DEDUP`: `off` (default), `memory` or a `redis://` URL.
    pub dedup: Dedup,
    /// `FLOWTRIQ_HANDLER_DELAY_MS`: how long the handler sleeps before answering.
    pub handler_delay: Duration,
}

impl fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("verifier", &self.verifier)
            .field("listen", &self.listen)
            .field("dedup", &redacted_dedup(&self.dedup))
            .field("handler_delay", &self.handler_delay)
            .finish()
    }
}

/// A Redis URL may carry a password: print only its scheme.
fn redacted_dedup(dedup: &Dedup) -> &'static str {
    match dedup {
        Dedup::Off => "off",
        Dedup::Memory => "memory",
        Dedup::Redis(_) => "redis://<redacted>",
    }
}

/// A configuration error: the message to print, and exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl ReceiverConfig {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so it can be tested without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = lookup("FLOWTRIQ_WEBHOOK_SECRET")
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| {
                ConfigError(
                    "FLOWTRIQ_WEBHOOK_SECRET is not set: set it to the webhook secret configured \
                     in the Flowtriq dashboard"
                        .into(),
                )
            })?;
        let mut verifier = Verifier::new(secret);

        let listen = match lookup("FLOWTRIQ_LISTEN") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(addr) => addr.parse().map_err(|_| {
                ConfigError(format!(
                    "FLOWTRIQ_LISTEN={addr:?} is not an address such as 127.0.0.1:3000"
                ))
            })?,
        };

        let dedup = match lookup("FLOWTRIQ_DEDUP").as_deref() {
            None | Some("off") => Dedup::Off,
            Some("memory") => Dedup::Memory,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Dedup::Redis(url.to_owned())
            }
            Some(other) => {
                return Err(ConfigError(format!(
                    "FLOWTRIQ_DEDUP={other:?} is not one of off, memory or a redis:// URL"
                )));
            }
        };

        if let Some(secs) = lookup("FLOWTRIQ_REPLAY_WINDOW_SECS") {
            let secs: u64 = secs.parse().map_err(|_| {
                ConfigError(format!(
                    "FLOWTRIQ_REPLAY_WINDOW_SECS={secs:?} is not a whole number of seconds"
                ))
            })?;
            verifier = verifier.with_replay_window(Duration::from_secs(secs));
        }

        let handler_delay = match lookup("FLOWTRIQ_HANDLER_DELAY_MS") {
            None => Duration::ZERO,
            Some(ms) => Duration::from_millis(ms.parse().map_err(|_| {
                ConfigError(format!(
                    "FLOWTRIQ_HANDLER_DELAY_MS={ms:?} is not a whole number of milliseconds"
                ))
            })?),
        };

        Ok(Self {
            verifier,
            listen,
            dedup,
            handler_delay,
        })
    }
}

impl ReceiverConfig {
    /// What every example receiver does first: read the configuration and build the receiver.
    /// On error it prints one line, `{program}: {error}`, and gives exit code 2.
    #[allow(clippy::print_stderr)] // the one line a user sees
    pub async fn load(program: &str) -> Result<(Self, Receiver), ExitCode> {
        let loaded = match Self::from_env() {
            Ok(config) => config.receiver().await.map(|receiver| (config, receiver)),
            Err(error) => Err(error),
        };
        loaded.map_err(|error| {
            eprintln!("{program}: {error}");
            ExitCode::from(2)
        })
    }

    /// The receiver to serve with: the verifier and, unless `FLOWTRIQ_DEDUP=off`, a
    /// deduplicator on the chosen store. Connecting to Redis happens here, so a receiver that
    /// cannot reach its store says so at start-up.
    pub async fn receiver(&self) -> Result<Receiver, ConfigError> {
        let receiver = Receiver::new(self.verifier.clone());
        let deduplicator = match &self.dedup {
            Dedup::Off => return Ok(receiver),
            Dedup::Memory => Deduplicator::in_memory(),
            Dedup::Redis(url) => {
                let store = RedisStore::connect(url).await.map_err(|e| {
                    ConfigError(format!("FLOWTRIQ_DEDUP: cannot connect to Redis: {e}"))
                })?;
                Deduplicator::new(std::sync::Arc::new(store))
            }
        };
        Ok(receiver.with_deduplicator(deduplicator))
    }
}

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<ReceiverConfig, ConfigError> {
        ReceiverConfig::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        })
    }

    #[test]
    fn secret_is_required() {
        let error = config(&[]).err().map(|e| e.0).unwrap_or_default();
        assert!(
            error.contains("FLOWTRIQ_WEBHOOK_SECRET is not set"),
            "{error}"
        );
    }

    #[test]
    fn defaults_and_overrides() -> Result<(), ConfigError> {
        let defaults = config(&[("FLOWTRIQ_WEBHOOK_SECRET", "s")])?;
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(defaults.dedup, Dedup::Off);
        assert_eq!(defaults.verifier.replay_window(), None);
        assert_eq!(defaults.handler_delay, Duration::ZERO);

        let set = config(&[
            ("FLOWTRIQ_WEBHOOK_SECRET", "s"),
            ("FLOWTRIQ_LISTEN", "127.0.0.1:0"),
            ("FLOWTRIQ_DEDUP", "redis://:pw@127.0.0.1:6379"),
            ("FLOWTRIQ_REPLAY_WINDOW_SECS", "300"),
            ("FLOWTRIQ_HANDLER_DELAY_MS", "250"),
        ])?;
        assert_eq!(set.listen.port(), 0);
        assert_eq!(set.verifier.replay_window(), Some(Duration::from_secs(300)));
        assert_eq!(set.handler_delay, Duration::from_millis(250));
        assert!(!format!("{set:?}").contains("pw@"));
        Ok(())
    }

    #[test]
    fn bad_values_are_named() {
        for (name, value) in [
            ("FLOWTRIQ_LISTEN", "nowhere"),
            ("FLOWTRIQ_DEDUP", "disk"),
            ("FLOWTRIQ_REPLAY_WINDOW_SECS", "5m"),
            ("FLOWTRIQ_HANDLER_DELAY_MS", "-1"),
        ] {
            let error = config(&[("FLOWTRIQ_WEBHOOK_SECRET", "s"), (name, value)])
                .err()
                .map(|e| e.0)
                .unwrap_or_default();
            assert!(error.starts_with(name), "{name}: {error}");
        }
    }
}
