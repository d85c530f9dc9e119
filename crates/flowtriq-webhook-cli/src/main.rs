//! `flowtriq-webhook`: sign, verify, send and receive Flowtriq DDoS-alert webhooks.
//!
//! Flowtriq POSTs one JSON event per request and signs the raw body with HMAC-SHA256 keyed with
//! the webhook secret: `X-Flowtriq-Signature: sha256=<hex>`. This tool computes and checks that
//! signature, delivers events the way Flowtriq does (timeout and retry schedule included),
//! replays an incident's lifecycle, and runs a receiver that prints what it verified.
//!
//! Exit codes: 0 success, 1 a signature that does not verify or a delivery that failed, 2 bad
//! input (no secret, unreadable file, invalid option).

use std::process::ExitCode;

use clap::{Parser, error::ErrorKind};

/// Writes one line to stdout. Output is the tool's interface, so it is written directly; a
/// closed stdout (`| head`) is ignored rather than turned into a panic.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Writes one line to stderr, ignoring a closed stderr.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod deliver;
mod listen;
mod payload;
mod report;
mod retry;
mod units;

/// Why a command stopped: one line for stderr and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    exit: u8,
}

impl Failure {
    /// Bad input: a missing secret, an unreadable file, an address that cannot be bound.
    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit: 2,
        }
    }

    /// The command ran but did not succeed, such as a delivery that never got a 2xx.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit: 1,
        }
    }
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match commands::run(cli) {
        Ok(code) => code,
        Err(failure) => {
            errln!("error: {}", failure.message);
            ExitCode::from(failure.exit)
        }
    }
}

/// Help and version go out as clap renders them; a usage error becomes one line.
fn usage_error(error: &clap::Error) -> ExitCode {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
        }
        _ => {
            errln!("{}", one_line(&error.render().to_string()));
            ExitCode::from(2)
        }
    }
}

/// Folds clap's multi-line error (message, details, tips, usage) into one line.
fn one_line(rendered: &str) -> String {
    let mut line = String::new();
    let mut help = None;
    for part in rendered
        .lines()
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        if part.starts_with("Usage:") {
            continue;
        }
        if let Some(rest) = part.strip_prefix("For more information, ") {
            help = Some(rest.trim_end_matches('.').to_owned());
            continue;
        }
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') || part.starts_with('[') {
                " "
            } else {
                "; "
            });
        }
        line.push_str(part);
    }
    if let Some(help) = help {
        line.push_str("; ");
        line.push_str(&help);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_fold_into_one_line() {
        let rendered = "error: invalid value 'boom' for '--event <TYPE>'\n  [possible values: \
                        attack_start, test]\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "error: invalid value 'boom' for '--event <TYPE>' [possible values: attack_start, \
             test]; try '--help'"
        );
        let rendered = "error: the following required arguments were not provided:\n  \
                        --url <URL>\n\nUsage: flowtriq-webhook send --url <URL>\n\nFor more \
                        information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "error: the following required arguments were not provided: --url <URL>; try '--help'"
        );
    }
}
