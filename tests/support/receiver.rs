//! The example receivers and the CLI, run as processes the way a user runs them.
//!
//! `cargo test` builds the package's examples next to the test binaries, and
//! `cargo test --workspace` builds the `flowtriq-webhook` binary there too.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use super::SECRET;

/// The folder cargo put this test binary's build in: `target/<profile>`.
fn profile_dir() -> PathBuf {
    let mut path = std::env::current_exe().unwrap_or_default();
    path.pop(); // the test binary
    if path.ends_with("deps") {
        path.pop();
    }
    path
}

/// Path of an example binary.
pub fn example(name: &str) -> PathBuf {
    profile_dir().join("examples").join(name)
}

/// Path of the `flowtriq-webhook` command-line binary, or an error saying how to build it.
pub fn cli() -> Result<PathBuf, String> {
    let path = profile_dir().join("flowtriq-webhook");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing: run the tests with `cargo test --workspace`, or \
             `cargo build -p flowtriq-webhook-cli` first",
            path.display()
        ))
    }
}

/// How to start a receiver.
#[derive(Debug, Default)]
pub struct Options<'a> {
    /// Extra environment, after `FLOWTRIQ_WEBHOOK_SECRET`, `FLOWTRIQ_LISTEN=127.0.0.1:0` and
    /// `RUST_LOG=off`.
    pub env: &'a [(&'a str, &'a str)],
    /// Where its stderr (its log) goes; discarded when `None`.
    pub stderr: Option<&'a Path>,
    /// Start it through `sh -c 'ulimit -n N'`, so that it may hold at most N descriptors.
    pub max_open_files: Option<u32>,
}

/// A running receiver example, killed when dropped.
#[derive(Debug)]
pub struct Receiver {
    child: Child,
    pub addr: SocketAddr,
}

impl Receiver {
    /// Starts example `name` on an ephemeral loopback port and reads the address it prints.
    pub fn start(name: &str, env: &[(&str, &str)]) -> Result<Self, String> {
        Self::start_with(
            name,
            &Options {
                env,
                ..Options::default()
            },
        )
    }

    /// [`start`](Self::start) with more options.
    pub fn start_with(name: &str, options: &Options<'_>) -> Result<Self, String> {
        let binary = example(name);
        if !binary.is_file() {
            return Err(format!(
                "{} is missing: cargo builds the examples when it builds all of the package's \
                 targets, e.g. `cargo test` without `--test`, or `cargo build --examples`",
                binary.display()
            ));
        }
        let mut command = match options.max_open_files {
            None => Command::new(&binary),
            Some(limit) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\""))
                    .arg(&binary);
                command
            }
        };
        let stderr = match options.stderr {
            None => Stdio::null(),
            Some(path) => File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?
                .into(),
        };
        let mut child = command
            .env_clear()
            .env("FLOWTRIQ_WEBHOOK_SECRET", SECRET)
            .env("FLOWTRIQ_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "off")
            .envs(options.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
        }
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|addr| addr.parse().ok());
        match addr {
            Some(addr) => Ok(Self { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{name} printed {line:?} instead of `listening on http://ADDR`"
                ))
            }
        }
    }

    /// `http://ADDR/webhook`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, super::PATH)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
