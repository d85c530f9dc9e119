//! The shared case table (DESIGN §3) and the drivers that run it against an adapter, in process
//! or over real TCP. Each adapter's test file only says how to reach its app.
//!
//! Every app under test serves `POST /webhook` with the example receivers' answer
//! (`flowtriq_webhook_examples::echo`) and adds `x-raw-body-sha256`: the SHA-256 of the raw
//! body as the handler read it through the framework's own raw-body extractor.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr // the de-duplication spread is reported on purpose
)]

pub mod dedup;
pub mod receiver;
pub mod tcp;

use std::fmt::Write as _;

use flowtriq_webhook::{Secret, sign};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The secret every app under test is configured with.
pub const SECRET: &str = "case-table-secret";
/// The route every app under test serves.
pub const PATH: &str = "/webhook";
/// The default body limit, from DESIGN §3.
pub const LIMIT: usize = 1_048_576;

/// A request as it goes on the wire.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub signature: Option<String>,
    pub body: Vec<u8>,
    /// Send with `Transfer-Encoding: chunked` instead of `Content-Length`.
    pub chunked: bool,
}

/// A response as the client saw it.
#[derive(Debug, Clone)]
pub struct WireResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl WireResponse {
    /// Collects an `http` 1.x response (axum, warp, hyper).
    pub async fn from_http<B>(response: http::Response<B>) -> Result<Self, String>
    where
        B: http_body::Body,
        B::Error: std::fmt::Display,
    {
        use http_body_util::BodyExt;
        let status = response.status().as_u16();
        let headers = header_pairs(response.headers());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes()
            .to_vec();
        Ok(Self {
            status,
            headers,
            body,
        })
    }
}

/// Header names and values as text.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// How the signature header is made for a case.
#[derive(Debug, Clone)]
pub enum Sig {
    /// `sha256=<hex>` of the body under [`SECRET`].
    Valid,
    /// As `Valid`, in upper-case hex.
    ValidUpper,
    /// No header.
    Missing,
    /// This exact header value.
    Raw(String),
    /// Signed with another secret.
    WrongSecret,
    /// A valid signature of another body.
    OtherBody(&'static [u8]),
    /// Signed, then the body was changed.
    Tampered,
}

/// What the answer must be.
#[derive(Debug, Clone)]
pub enum Expect {
    /// 200, the echo of the event, and the handler read exactly the bytes sent.
    Handled,
    /// This status with `{"error": <code>}`.
    Rejected(u16, &'static str),
    /// This status and any body: for answers a framework may give before our code runs.
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub sig: Sig,
    pub body: Vec<u8>,
    pub chunked: bool,
    pub expect: Expect,
}

impl Case {
    fn new(name: impl Into<String>, sig: Sig, body: impl Into<Vec<u8>>, expect: Expect) -> Self {
        Self {
            name: name.into(),
            sig,
            body: body.into(),
            chunked: false,
            expect,
        }
    }

    fn chunked(mut self) -> Self {
        self.name.push_str(" (chunked)");
        self.chunked = true;
        self
    }

    /// The request to send.
    pub fn request(&self) -> WireRequest {
        let secret = Secret::new(SECRET);
        let mut body = self.body.clone();
        let signature = match &self.sig {
            Sig::Valid => Some(sign(&secret, &body)),
            Sig::ValidUpper => Some(format!("sha256={}", hex_upper(&sign(&secret, &body)[7..]))),
            Sig::Missing => None,
            Sig::Raw(value) => Some(value.clone()),
            Sig::WrongSecret => Some(sign(&Secret::new("not-the-secret"), &body)),
            Sig::OtherBody(other) => Some(sign(&secret, other)),
            Sig::Tampered => {
                let signature = sign(&secret, &body);
                if let Some(first_digit) = body.iter_mut().find(|b| b.is_ascii_digit()) {
                    *first_digit = if *first_digit == b'9' {
                        b'8'
                    } else {
                        *first_digit + 1
                    };
                }
                Some(signature)
            }
        };
        WireRequest {
            signature,
            body,
            chunked: self.chunked,
        }
    }

    /// Checks a response against the expectation; the error says what differs.
    pub fn check(&self, sent: &WireRequest, response: &WireResponse) -> Result<(), String> {
        self.check_with(sent, response, true)
    }

    /// As [`check`](Self::check); `raw_body_reported` says whether the app reports the raw
    /// body it read (test apps do, the example receivers do not).
    pub fn check_with(
        &self,
        sent: &WireRequest,
        response: &WireResponse,
        raw_body_reported: bool,
    ) -> Result<(), String> {
        let body = String::from_utf8_lossy(&response.body);
        let (status, detail) = match &self.expect {
            Expect::Handled => (
                200,
                expected_echo(&sent.body).map(|echo| (echo, sha256_hex(&sent.body))),
            ),
            Expect::Rejected(status, code) => {
                (*status, Ok((json!({ "error": code }), String::new())))
            }
            Expect::Status(status) => (*status, Err(String::new())),
        };
        if response.status != status {
            return Err(format!(
                "status {} (want {status}), body {body:.200}",
                response.status
            ));
        }
        let Ok((want_json, want_raw_hash)) = detail else {
            return Ok(());
        };
        let got: Value = serde_json::from_slice(&response.body)
            .map_err(|e| format!("body is not JSON ({e}): {body:.200}"))?;
        if got != want_json {
            return Err(format!("body {got} (want {want_json})"));
        }
        if raw_body_reported
            && !want_raw_hash.is_empty()
            && response.header("x-raw-body-sha256") != Some(&want_raw_hash)
        {
            return Err(format!(
                "handler read other bytes than were sent: x-raw-body-sha256 {:?}",
                response.header("x-raw-body-sha256")
            ));
        }
        if matches!(self.expect, Expect::Rejected(..))
            && !response
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json"))
        {
            return Err(format!(
                "content-type {:?}",
                response.header("content-type")
            ));
        }
        Ok(())
    }
}

/// The echo computed from the sent JSON independently of the library's parser.
fn expected_echo(body: &[u8]) -> Result<Value, String> {
    let sent: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(json!({
        "event_type": sent["event_type"],
        "incident_id": sent["incident"]["id"],
        "node": sent["node"]["name"],
    }))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

fn hex_upper(hex: &str) -> String {
    hex.to_ascii_uppercase()
}

/// The vendor's sample payload (from the Flowtriq webhook reference), with another event type.
pub fn vendor_sample(event_type: &str) -> Vec<u8> {
    let body = json!({
        "event_type": event_type,
        "timestamp": "2025-03-10T14:22:00Z",
        "incident": {
            "id": 147,
            "uuid": "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
            "title": "UDP Flood on web-prod-1",
            "attack_family": "udp_flood",
            "severity": "critical",
            "peak_pps": 2_450_000,
            "peak_bps": 1_547_000_000u64,
            "source_ip_count": 8429,
            "started_at": "2025-03-10T14:22:00Z",
            "ai_summary": "A large 1.4 Gbps UDP flood from 8,429 source IPs...",
            "dashboard_url": "https://flowtriq.com/dashboard/incident?id=147"
        },
        "node": { "id": 1, "name": "web-prod-1", "ip_address": "203.0.113.10" }
    });
    serde_json::to_vec_pretty(&body).unwrap_or_default()
}

/// A valid `test` event of exactly `len` bytes (padded inside an unknown field).
pub fn event_of_len(len: usize) -> Vec<u8> {
    let head = br#"{"event_type":"test","pad":""#;
    let tail = br#""}"#;
    let mut body = head.to_vec();
    body.resize(len - tail.len(), b'x');
    body.extend_from_slice(tail);
    body
}

/// The one case table, DESIGN §3, for every adapter.
pub fn cases() -> Vec<Case> {
    use Expect::*;
    use Sig::*;
    let sample = vendor_sample("attack_start");
    let hex64 = "0123456789abcdef".repeat(4);
    let mut cases = vec![];

    for event_type in ["attack_start", "attack_update", "attack_end", "test"] {
        cases.push(Case::new(
            event_type,
            Valid,
            vendor_sample(event_type),
            Handled,
        ));
    }
    cases.extend([
        Case::new("minimal test event", Valid, r#"{"event_type":"test"}"#, Handled),
        Case::new("upper-case hex signature", ValidUpper, sample.clone(), Handled),
        Case::new(
            "unknown event type",
            Valid,
            r#"{"event_type":"attack_paused","incident":{"id":9}}"#,
            Handled,
        ),
        Case::new(
            "unknown enum values and fields",
            Valid,
            r#"{"event_type":"attack_start","x":{"y":1},"incident":{"id":5,"attack_family":"quic_flood","severity":"apocalyptic","vector":"new"},"node":{"name":"edge-9","region":"eu"}}"#,
            Handled,
        ),
        Case::new("body at the limit", Valid, event_of_len(LIMIT), Handled),
        // 401: the signature.
        Case::new("missing signature", Missing, sample.clone(), Rejected(401, "missing_signature")),
        Case::new("empty signature", Raw(String::new()), sample.clone(), Rejected(401, "empty_signature")),
        Case::new("sha256= alone", Raw("sha256=".into()), sample.clone(), Rejected(401, "empty_signature_digest")),
        Case::new("bare hex", Raw(hex64.clone()), sample.clone(), Rejected(401, "missing_signature_prefix")),
        Case::new(
            "sha1 scheme",
            Raw(format!("sha1={}", &hex64[..40])),
            sample.clone(),
            Rejected(401, "unsupported_signature_algorithm"),
        ),
        Case::new(
            "truncated signature",
            Raw(format!("sha256={}", &hex64[..63])),
            sample.clone(),
            Rejected(401, "invalid_signature_length"),
        ),
        Case::new(
            "non-hex signature",
            Raw(format!("sha256={}zz", &hex64[..62])),
            sample.clone(),
            Rejected(401, "invalid_signature_hex"),
        ),
        Case::new("wrong secret", WrongSecret, sample.clone(), Rejected(401, "signature_mismatch")),
        Case::new(
            "valid MAC of another body",
            OtherBody(br#"{"event_type":"test"}"#),
            sample.clone(),
            Rejected(401, "signature_mismatch"),
        ),
        Case::new("tampered body", Tampered, sample, Rejected(401, "signature_mismatch")),
        // 400: signed, but not an event.
        Case::new("not UTF-8", Valid, b"{\"event_type\":\"test\",\"x\":\"\xff\"}".to_vec(), Rejected(400, "invalid_payload")),
        Case::new("not JSON", Valid, "event_type=test", Rejected(400, "invalid_payload")),
        Case::new("empty body", Valid, "", Rejected(400, "invalid_payload")),
        Case::new("not an object", Valid, r#"["event_type","test"]"#, Rejected(400, "invalid_payload")),
        Case::new("no event_type", Valid, r#"{"incident":{"id":1}}"#, Rejected(400, "invalid_payload")),
        Case::new("event_type not a string", Valid, r#"{"event_type":7}"#, Rejected(400, "invalid_payload")),
        Case::new(
            "known field of the wrong type",
            Valid,
            r#"{"event_type":"attack_update","incident":{"id":1,"peak_pps":"many"}}"#,
            Rejected(400, "invalid_payload"),
        ),
        Case::new(
            "attack event without incident.id",
            Valid,
            r#"{"event_type":"attack_end","incident":{"title":"t"}}"#,
            Rejected(400, "invalid_payload"),
        ),
        // 413: over the limit, signed so that only the size can be the reason.
        Case::new("one byte over the limit", Valid, event_of_len(LIMIT + 1), Rejected(413, "payload_too_large")),
    ]);
    // Streamed without Content-Length: the limit must hold while reading.
    cases.extend([
        Case::new("small event", Valid, vendor_sample("attack_start"), Handled).chunked(),
        Case::new("body at the limit", Valid, event_of_len(LIMIT), Handled).chunked(),
        Case::new(
            "one byte over the limit",
            Valid,
            event_of_len(LIMIT + 1),
            Rejected(413, "payload_too_large"),
        )
        .chunked(),
        Case::new(
            "2 MiB",
            Valid,
            event_of_len(2 * LIMIT),
            Rejected(413, "payload_too_large"),
        )
        .chunked(),
    ]);
    cases
}

/// Runs every case through `send` and fails once, listing every case that went wrong.
pub async fn run_cases<F, Fut>(adapter: &str, cases: Vec<Case>, send: F)
where
    F: FnMut(WireRequest) -> Fut,
    Fut: std::future::Future<Output = Result<WireResponse, String>>,
{
    run_cases_with(adapter, cases, true, send).await;
}

/// As [`run_cases`], for apps that do not report the raw body they read.
pub async fn run_cases_with<F, Fut>(
    adapter: &str,
    cases: Vec<Case>,
    raw_body_reported: bool,
    mut send: F,
) where
    F: FnMut(WireRequest) -> Fut,
    Fut: std::future::Future<Output = Result<WireResponse, String>>,
{
    assert!(!cases.is_empty(), "{adapter}: no case to run");
    let mut failures = vec![];
    for case in &cases {
        let request = case.request();
        let outcome = match send(request.clone()).await {
            Ok(response) => case.check_with(&request, &response, raw_body_reported),
            Err(error) => Err(format!("request failed: {error}")),
        };
        if let Err(why) = outcome {
            failures.push(format!("  {}: {why}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{adapter}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The cases that framework test helpers can send: they always add `Content-Length`.
pub fn in_process_cases() -> Vec<Case> {
    cases().into_iter().filter(|case| !case.chunked).collect()
}
