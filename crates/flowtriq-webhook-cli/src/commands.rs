//! What each subcommand does.

use std::{
    io::{IsTerminal, Read, Write},
    path::Path,
    process::ExitCode,
};

use bytes::Bytes;
use flowtriq_webhook::{Error, Event, Secret, Verifier, sign};
use time::OffsetDateTime;

use crate::{
    Failure,
    cli::{Cli, Command, ListenArgs, SECRET_ENV, SendArgs, SignArgs, SimulateArgs, VerifyArgs},
    deliver::Sender,
    listen,
    payload::{EventKind, Incident, Peaks},
    report::Report,
    units::{format_bps, format_pps},
};

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let keys = Keys::new(&cli.secret)?;
    match cli.command {
        Command::Sign(args) => sign_body(&keys, &args),
        Command::Verify(args) => verify(&keys, &args),
        Command::Send(args) => send(&keys, &args),
        Command::Simulate(args) => simulate(&keys, &args),
        Command::Listen(args) => listen(&keys, &args),
    }
}

/// The configured secrets: the first signs, any of them verifies.
struct Keys {
    signer: Secret,
    all: Vec<Secret>,
}

impl Keys {
    fn new(secrets: &[String]) -> Result<Self, Failure> {
        let Some(first) = secrets.first() else {
            return Err(Failure::input(format!(
                "no webhook secret: pass --secret SECRET or set {SECRET_ENV}"
            )));
        };
        if secrets.iter().any(String::is_empty) {
            return Err(Failure::input("the webhook secret is empty"));
        }
        let signer = Secret::new(first.as_bytes());
        let all: Vec<Secret> = secrets.iter().map(|s| Secret::new(s.as_bytes())).collect();
        if all.iter().any(Secret::has_surrounding_whitespace) {
            errln!(
                "warning: a secret has leading or trailing whitespace; it is used exactly as \
                 given, which is what Flowtriq does too"
            );
        }
        Ok(Self { signer, all })
    }

    fn verifier(&self) -> Verifier {
        self.all
            .iter()
            .skip(1)
            .fold(Verifier::new(self.signer.clone()), |verifier, secret| {
                verifier.with_secret(secret.clone())
            })
    }
}

/// Reads a file, or standard input for `-` or no file.
fn read_input(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match path {
        Some(path) if path.as_os_str() != "-" => std::fs::read(path)
            .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display()))),
        _ => {
            let mut stdin = std::io::stdin().lock();
            if stdin.is_terminal() {
                errln!("reading the body from standard input; end it with Ctrl-D");
            }
            let mut body = Vec::new();
            stdin
                .read_to_end(&mut body)
                .map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
            Ok(body)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(format!("cannot start the async runtime: {e}")))
}

fn sign_body(keys: &Keys, args: &SignArgs) -> Result<ExitCode, Failure> {
    let body = read_input(args.file.as_deref())?;
    let header = sign(&keys.signer, &body);
    writeln!(std::io::stdout().lock(), "{header}")
        .map_err(|e| Failure::failed(format!("cannot write to standard output: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

fn verify(keys: &Keys, args: &VerifyArgs) -> Result<ExitCode, Failure> {
    let body = read_input(args.file.as_deref())?;
    // The signature alone: a file on disk has no size cap and need not be an event.
    let index = match keys
        .verifier()
        .verify_signature(Some(args.signature.as_bytes()), &body)
    {
        Ok(index) => index,
        Err(error) => {
            errln!("invalid: {error} [{}]", error.code());
            return Ok(ExitCode::from(1));
        }
    };
    match Event::from_slice(&body).map_err(Error::InvalidPayload) {
        Err(error) if args.require_event => {
            errln!("invalid: {error} [{}]", error.code());
            Ok(ExitCode::from(1))
        }
        outcome => {
            outln!("valid (secret #{index})");
            if let Err(error) = outcome {
                errln!("note: not a Flowtriq event, a receiver would answer 400: {error}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn send(keys: &Keys, args: &SendArgs) -> Result<ExitCode, Failure> {
    let sender = Sender::new(&args.delivery)?;
    let (body, what) = match &args.payload {
        Some(path) => {
            let body = read_input(Some(path))?;
            if let Err(reason) = Event::from_slice(&body) {
                errln!(
                    "note: the payload is not a valid Flowtriq event, sending it as is: {reason}"
                );
            }
            (body, format!("payload from {}", path.display()))
        }
        None => {
            let kind = args.event.unwrap_or(EventKind::Test);
            let peaks = match kind {
                EventKind::AttackStart | EventKind::Test => Peaks::ramp(0),
                EventKind::AttackUpdate | EventKind::AttackEnd => Peaks::ramp(1),
            };
            let now = OffsetDateTime::now_utc();
            let incident = Incident::new(now);
            let body = incident
                .payload(kind, peaks, now)
                .map_err(Failure::failed)?;
            let what = format!(
                "{} incident={} uuid={}",
                kind.as_str(),
                incident.id,
                incident.uuid
            );
            (body, what)
        }
    };
    let signature = sign(&keys.signer, &body);
    outln!("POST {} {what} ({} bytes)", sender.url(), body.len());
    let delivered = runtime()?.block_on(sender.deliver(Bytes::from(body), &signature, ""));
    if delivered {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::failed(format!(
            "the delivery to {} failed: no 2xx answer in {} attempt(s)",
            sender.url(),
            sender.attempts()
        )))
    }
}

fn simulate(keys: &Keys, args: &SimulateArgs) -> Result<ExitCode, Failure> {
    let sender = Sender::new(&args.delivery)?;
    let incident = Incident::new(OffsetDateTime::now_utc());
    let lifecycle: Vec<(EventKind, u32)> = std::iter::once((EventKind::AttackStart, 0))
        .chain((1..=args.updates).map(|step| (EventKind::AttackUpdate, step)))
        .chain(std::iter::once((EventKind::AttackEnd, args.updates)))
        .collect();
    let total = lifecycle.len();
    outln!(
        "simulating incident {} ({}) against {}: {total} events",
        incident.id,
        incident.uuid,
        sender.url()
    );
    let delivered = runtime()?.block_on(async {
        let mut delivered = 0usize;
        for (index, (kind, step)) in lifecycle.into_iter().enumerate() {
            if index > 0 {
                tokio::time::sleep(args.interval).await;
            }
            let peaks = Peaks::ramp(step);
            let body = incident.payload(kind, peaks, OffsetDateTime::now_utc())?;
            outln!(
                "event {}/{total}: {} peak={} / {}",
                index + 1,
                kind.as_str(),
                format_pps(peaks.pps),
                format_bps(peaks.bps),
            );
            let signature = sign(&keys.signer, &body);
            if sender.deliver(Bytes::from(body), &signature, "  ").await {
                delivered += 1;
            }
        }
        Ok::<_, String>(delivered)
    });
    let delivered = delivered.map_err(Failure::failed)?;
    outln!("delivered {delivered} of {total} events");
    if delivered == total {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::failed(format!(
            "{} of {total} events got no 2xx answer",
            total - delivered
        )))
    }
}

fn listen(keys: &Keys, args: &ListenArgs) -> Result<ExitCode, Failure> {
    let verifier = keys.verifier();
    let report = Report::new(args.json);
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .map_err(|e| Failure::input(format!("cannot listen on {}: {e}", args.addr)))?;
        let local = listener
            .local_addr()
            .map_err(|e| Failure::failed(format!("cannot read the bound address: {e}")))?;
        errln!("listening on http://{local}");
        let shutdown = async {
            if tokio::signal::ctrl_c().await.is_err() {
                // No Ctrl-C handler could be installed: run until killed.
                std::future::pending::<()>().await;
            }
        };
        listen::serve(listener, verifier, report, shutdown)
            .await
            .map_err(|e| Failure::failed(format!("the receiver stopped: {e}")))
    })?;
    Ok(ExitCode::SUCCESS)
}
