//! A throwaway `redis-server` for tests (feature `test-support`).
//!
//! ```no_run
//! use flowtriq_webhook_redis::test_support::RedisServer;
//!
//! let server = RedisServer::start()?; // fails with a clear message if redis-server is missing
//! println!("{}", server.url());       // redis://127.0.0.1:<port>/
//! # Ok::<(), std::io::Error>(())
//! // The server is killed when `server` is dropped.
//! ```
//!
//! Not part of the crate's stable API.

use std::{
    ffi::{OsStr, OsString},
    fmt,
    io::{self, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    process::{Child, Command, Stdio},
    thread,
    time::{Duration, Instant},
};

/// How long a started server may take to answer `PING`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);

/// How many ports are tried when another process grabs the free one first.
const PORT_ATTEMPTS: usize = 5;

/// A `redis-server` process on a free loopback port, without persistence, killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    binary: OsString,
    extra_args: Vec<String>,
}

impl RedisServer {
    /// Environment variable naming the `redis-server` binary; `redis-server` from `PATH`
    /// when unset.
    pub const BINARY_ENV: &'static str = "FLOWTRIQ_REDIS_SERVER";

    /// Starts `redis-server` (or the binary named by [`BINARY_ENV`](Self::BINARY_ENV)) and
    /// waits until it answers `PING`.
    ///
    /// # Errors
    ///
    /// When the binary is missing (the message says how to install it) or the server does not
    /// come up.
    pub fn start() -> io::Result<Self> {
        Self::start_with_args(&[])
    }

    /// [`start`](Self::start) with extra command-line arguments, such as
    /// `["--requirepass", "secret"]`.
    ///
    /// # Errors
    ///
    /// As for [`start`](Self::start).
    pub fn start_with_args(extra_args: &[&str]) -> io::Result<Self> {
        let binary =
            std::env::var_os(Self::BINARY_ENV).unwrap_or_else(|| OsString::from("redis-server"));
        Self::start_binary(&binary, extra_args)
    }

    /// Starts the given `redis-server` binary with extra arguments.
    ///
    /// # Errors
    ///
    /// As for [`start`](Self::start).
    pub fn start_binary(binary: impl AsRef<OsStr>, extra_args: &[&str]) -> io::Result<Self> {
        let binary = binary.as_ref();
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let mut server = Self {
                child: None,
                port: free_port()?,
                binary: binary.to_owned(),
                extra_args: extra_args.iter().map(|&arg| arg.to_owned()).collect(),
            };
            server.spawn()?;
            match server.wait_until_ready() {
                Ok(()) => return Ok(server),
                // Most likely the port was taken in the meantime: try another one.
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills the server and waits for it to exit; the port refuses connections afterwards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, with the same arguments, after
    /// [`stop`](Self::stop) (or kills it first if it still runs), and waits until it answers
    /// `PING`. Nothing was persisted: the new server starts empty.
    ///
    /// # Errors
    ///
    /// When the server does not come up, for instance because another process took the port
    /// in the meantime.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        self.spawn()?;
        self.wait_until_ready()
    }

    fn spawn(&mut self) -> io::Result<()> {
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| missing_binary(&self.binary, &error))?;
        self.child = Some(child);
        Ok(())
    }

    fn wait_until_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        loop {
            if !self.is_running() {
                let status = self
                    .child
                    .take()
                    .and_then(|mut child| child.wait().ok())
                    .map_or_else(|| "unknown".to_owned(), |status| status.to_string());
                return Err(io::Error::other(format!(
                    "redis-server exited during startup on port {} ({status})",
                    self.port
                )));
            }
            if answers_ping(self.port) {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                self.stop();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "redis-server did not answer PING on port {} within {:?}",
                        self.port, STARTUP_TIMEOUT
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("pid", &self.child.as_ref().map(Child::id))
            .finish()
    }
}

fn missing_binary(binary: &OsStr, error: &io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::NotFound {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "`{}` was not found; the Redis tests need a real redis-server: install it \
                 (Debian/Ubuntu: `apt-get install redis-server`) or point {} at the binary",
                binary.to_string_lossy(),
                RedisServer::BINARY_ENV
            ),
        )
    } else {
        io::Error::new(
            error.kind(),
            format!("could not start `{}`: {error}", binary.to_string_lossy()),
        )
    }
}

/// A port nothing listens on right now.
fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Whether the server answers `PING`; `NOAUTH` counts, since a password-protected server is
/// up and refusing only the unauthenticated command.
fn answers_ping(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 64];
    match stream.read(&mut reply) {
        Ok(n) => {
            let reply = reply.get(..n).unwrap_or_default();
            reply.starts_with(b"+PONG") || reply.starts_with(b"-NOAUTH")
        }
        Err(_) => false,
    }
}
