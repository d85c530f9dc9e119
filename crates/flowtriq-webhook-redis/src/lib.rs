//! A Redis [`DeliveryStore`] for [`flowtriq-webhook`](flowtriq_webhook), for receivers that
//! run as several replicas.
//!
//! Flowtriq retries a delivery that got no 2xx answer within 10 s, and a retry may reach
//! another replica than the first attempt. [`RedisStore`] keeps the record of which
//! deliveries are in flight or handled in Redis, so every replica sees it.
//!
//! Each delivery is one key, `<prefix><64 hex digits of the MAC>` (prefix
//! [`RedisStore::DEFAULT_KEY_PREFIX`] unless configured). While a request handles the
//! delivery, the key holds that request's random token and expires with the lease; once
//! handled, it holds `done` and expires with the TTL. Every transition is one atomic command
//! or Lua script, guarded by the token. The store needs a Tokio runtime.
//!
//! ```no_run
//! use std::{sync::Arc, time::Duration};
//! use flowtriq_webhook::Deduplicator;
//! use flowtriq_webhook_redis::RedisStore;
//!
//! # async fn run() -> Result<(), flowtriq_webhook::StoreError> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/")
//!     .key_prefix("billing:flowtriq:")
//!     .timeout(Duration::from_secs(1))
//!     .connect()
//!     .await?;
//! let dedup = Deduplicator::new(Arc::new(store));
//! // Hand `dedup` to the adapter (tower, actix-web or warp).
//! # let _ = dedup;
//! # Ok(())
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "test-support")]
pub mod test_support;

/// Compiles the README's example.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

use std::{
    fmt,
    future::Future,
    sync::{Arc, LazyLock},
    time::Duration,
};

use flowtriq_webhook::{DeliveryKey, DeliveryStore, Lease, Reservation, StoreError, StoreFuture};
use redis::{
    Client, RedisError, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

/// What a handled delivery's key holds; tokens are 32 hex digits, so never this.
const DONE: &str = "done";

/// Longest lease or TTL sent to Redis (100 years), far from overflowing its clock.
const MAX_MILLIS: u64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// Unknown → in flight, or tells handled (1) from in flight (3) without a race between the
/// two reads.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[3] then
  return 2
end
return 3
",
    )
});

/// In flight under this token, or expired and free → handled for the TTL.
static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or current == false then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
  return 1
end
return 0
",
    )
});

/// In flight under this token → forgotten.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
",
    )
});

/// A [`DeliveryStore`] in Redis, shared by every replica that connects to the same server
/// with the same key prefix.
///
/// Each call is bounded by the [timeout](RedisStore::timeout) (default 2 s), so an
/// unreachable server turns into a [`StoreError`] quickly, well inside Flowtriq's 10 s, and
/// the [`Deduplicator`](flowtriq_webhook::Deduplicator) answers `503` (or runs the handler
/// when failing open). The connection is re-established in the background after a failure.
///
/// Cloning is cheap and shares the connection. `Debug` never shows the password of the URL.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    key_prefix: Arc<str>,
    timeout: Duration,
    /// The URL with its password and query removed, for `Debug`.
    target: Arc<str>,
}

impl RedisStore {
    /// Prefix of every key the store writes, unless configured otherwise.
    pub const DEFAULT_KEY_PREFIX: &'static str = "flowtriq:delivery:";

    /// How long one store operation (or one connection attempt) may take, unless configured.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to the Redis server at `url` with the default key prefix and timeout.
    ///
    /// `url` is what the `redis` crate accepts: `redis://[[user]:password@]host[:port][/db]`
    /// or `redis+unix:///path`.
    ///
    /// # Errors
    ///
    /// When the URL is invalid or the server cannot be reached or authenticated against.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder(url).connect().await
    }

    /// Connection settings for `url`, to set the key prefix or timeout before connecting.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// A store over a connection you built yourself, with the default key prefix and
    /// timeout.
    pub fn from_connection_manager(connection: ConnectionManager) -> Self {
        Self {
            connection,
            key_prefix: Arc::from(Self::DEFAULT_KEY_PREFIX),
            timeout: Self::DEFAULT_TIMEOUT,
            target: Arc::from("<connection manager>"),
        }
    }

    /// Sets the prefix of every key, to share a server between receivers that must not see
    /// each other's deliveries.
    pub fn with_key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = Arc::from(key_prefix.into());
        self
    }

    /// Sets how long one store operation may take before it fails.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The prefix of every key.
    pub fn key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// How long one store operation may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The Redis key that records `key`: the prefix followed by 64 hex digits.
    pub fn redis_key(&self, key: &DeliveryKey) -> String {
        format!("{}{key}", self.key_prefix)
    }

    async fn run<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(StoreError::with_source(
                format!("redis {operation} failed: {error}"),
                error,
            )),
            Err(elapsed) => Err(StoreError::with_source(
                format!(
                    "redis {operation} timed out after {} ms",
                    self.timeout.as_millis()
                ),
                elapsed,
            )),
        }
    }

    async fn reserve_inner(
        &self,
        key: DeliveryKey,
        lease: Duration,
    ) -> Result<Reservation, StoreError> {
        let token = random_token()?;
        let mut connection = self.connection.clone();
        let reply: i64 = self
            .run(
                "reserve",
                RESERVE
                    .key(self.redis_key(&key))
                    .arg(token_value(token))
                    .arg(millis(lease))
                    .arg(DONE)
                    .invoke_async(&mut connection),
            )
            .await?;
        match reply {
            1 => Ok(Reservation::Acquired(Lease::new(token))),
            2 => Ok(Reservation::AlreadyHandled),
            3 => Ok(Reservation::InFlight),
            other => Err(StoreError::new(format!(
                "redis reserve returned the unexpected reply {other}"
            ))),
        }
    }

    async fn complete_inner(
        &self,
        key: DeliveryKey,
        lease: &Lease,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let reply: i64 = self
            .run(
                "complete",
                COMPLETE
                    .key(self.redis_key(&key))
                    .arg(token_value(lease.token()))
                    .arg(millis(ttl))
                    .arg(DONE)
                    .invoke_async(&mut connection),
            )
            .await?;
        Ok(reply == 1)
    }

    async fn release_inner(&self, key: DeliveryKey, lease: &Lease) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let reply: i64 = self
            .run(
                "release",
                RELEASE
                    .key(self.redis_key(&key))
                    .arg(token_value(lease.token()))
                    .invoke_async(&mut connection),
            )
            .await?;
        Ok(reply == 1)
    }
}

impl DeliveryStore for RedisStore {
    fn reserve(&self, key: DeliveryKey, lease: Duration) -> StoreFuture<'_, Reservation> {
        Box::pin(self.reserve_inner(key, lease))
    }

    fn complete<'a>(
        &'a self,
        key: DeliveryKey,
        lease: &'a Lease,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.complete_inner(key, lease, ttl))
    }

    fn release<'a>(&'a self, key: DeliveryKey, lease: &'a Lease) -> StoreFuture<'a, bool> {
        Box::pin(self.release_inner(key, lease))
    }

    /// Spawns the release on the current Tokio runtime. Outside of one, the delivery stays in
    /// flight until its lease runs out.
    fn release_detached(&self, key: DeliveryKey, lease: Lease) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                delivery = %key,
                "no Tokio runtime to release the delivery on; it stays in flight until its \
                 lease runs out"
            );
            return;
        };
        let store = self.clone();
        runtime.spawn(async move {
            if let Err(error) = store.release_inner(key, &lease).await {
                tracing::warn!(
                    delivery = %key,
                    error = %error,
                    "could not release the delivery; it stays in flight until its lease runs out"
                );
            }
        });
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Settings for [`RedisStore::builder`]; [`connect`](Self::connect) opens the connection.
///
/// `Debug` never shows the password of the URL.
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    key_prefix: String,
    timeout: Duration,
}

impl RedisStoreBuilder {
    /// Sets the prefix of every key (default [`RedisStore::DEFAULT_KEY_PREFIX`]).
    pub fn key_prefix(mut self, key_prefix: impl Into<String>) -> Self {
        self.key_prefix = key_prefix.into();
        self
    }

    /// Sets how long one store operation or connection attempt may take (default
    /// [`RedisStore::DEFAULT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects to the server. The connection is re-established in the background whenever
    /// it fails later.
    ///
    /// # Errors
    ///
    /// When the URL is invalid or the server cannot be reached or authenticated against. The
    /// message never contains the URL.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let target = redact_url(&self.url);
        let client = Client::open(self.url.as_str()).map_err(|error| {
            StoreError::with_source(format!("invalid Redis URL: {error}"), error)
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_max_delay(self.timeout);
        let connect = ConnectionManager::new_with_config(client, config);
        // Retries included, connecting takes at most a few timeouts.
        let deadline = self.timeout.saturating_mul(4);
        let connection = match tokio::time::timeout(deadline, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => {
                return Err(StoreError::with_source(
                    format!("could not connect to Redis at {target}: {error}"),
                    error,
                ));
            }
            Err(elapsed) => {
                return Err(StoreError::with_source(
                    format!(
                        "could not connect to Redis at {target} within {} ms",
                        deadline.as_millis()
                    ),
                    elapsed,
                ));
            }
        };
        Ok(RedisStore {
            connection,
            key_prefix: Arc::from(self.key_prefix),
            timeout: self.timeout,
            target: Arc::from(target),
        })
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// `url` without its password or query (which may carry one), for messages and `Debug`.
fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<invalid URL>".to_owned();
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have credentials, which have no password either.
        let _ = parsed.set_password(Some("redacted"));
    }
    if parsed.query().is_some() {
        parsed.set_query(Some("redacted"));
    }
    parsed.into()
}

/// A random 128-bit token, unique across processes and replicas.
fn random_token() -> Result<u128, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| {
        StoreError::new(format!("no randomness for a reservation token: {error}"))
    })?;
    Ok(u128::from_le_bytes(bytes))
}

/// The value stored for a token: 32 hex digits.
fn token_value(token: u128) -> String {
    format!("{token:032x}")
}

/// `duration` in whole milliseconds, rounded up, at least 1 (Redis refuses 0) and at most
/// [`MAX_MILLIS`].
fn millis(duration: Duration) -> u64 {
    let millis = duration.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis)
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_MILLIS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_passwords_and_queries() {
        assert_eq!(
            redact_url("redis://:hunter2@cache.internal:6380/2"),
            "redis://:redacted@cache.internal:6380/2"
        );
        assert_eq!(
            redact_url("redis://app:hunter2@cache.internal/"),
            "redis://app:redacted@cache.internal/"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?redacted"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/"),
            "redis://127.0.0.1:6379/"
        );
        assert_eq!(redact_url("not a url hunter2"), "<invalid URL>");
    }

    #[test]
    fn builder_debug_hides_the_password() {
        let builder = RedisStore::builder("redis://:hunter2@127.0.0.1:6379/");
        let debug = format!("{builder:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("127.0.0.1:6379"), "{debug}");
    }

    #[test]
    fn durations_become_positive_milliseconds() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_micros(1_001)), 2);
        assert_eq!(millis(Duration::from_secs(30)), 30_000);
        assert_eq!(millis(Duration::MAX), MAX_MILLIS);
    }

    #[test]
    fn tokens_are_random_and_never_the_done_marker() {
        let (a, b) = (random_token().ok(), random_token().ok());
        assert!(a.is_some());
        assert_ne!(a, b);
        let value = token_value(a.unwrap_or_default());
        assert_eq!(value.len(), 32);
        assert_ne!(value, DONE);
    }
}
