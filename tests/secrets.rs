//! Secrets hygiene: over every path of the case table (and the replay window), neither the
//! secret nor the expected MAC appears in the `tracing` output, a response body or a response
//! header; `Debug` of every type holding a secret is redacted.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Body, extract::Request, routing::post};
use flowtriq_webhook::{Secret, Signature, Verifier};
use flowtriq_webhook_examples::ReceiverConfig;
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use http_body_util::BodyExt;
use support::{PATH, SECRET};
use tower::{Layer, ServiceExt};

/// A `tracing` writer that keeps everything written to it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut all) = self.0.lock() {
            all.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        self.0
            .lock()
            .map(|all| String::from_utf8_lossy(&all).into_owned())
            .unwrap_or_default()
    }
}

fn app() -> Router {
    let verifier = Verifier::new(SECRET).with_replay_window(Duration::from_secs(60));
    Router::new()
        .route(PATH, post(|FlowtriqEvent(_): FlowtriqEvent| async { "ok" }))
        .route_layer(VerifyWebhookLayer::from_verifier(verifier))
}

#[tokio::test]
async fn no_secret_or_expected_mac_in_logs_or_responses() -> Result<(), String> {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Built while capturing, so the secret-with-whitespace warning is captured too.
    let _ = Secret::new(format!("{SECRET}\n"));

    let app = app();
    let mut rejections = 0;
    for case in support::cases() {
        let request = case.request();
        let expected_mac = Signature::compute(&Secret::new(SECRET), &request.body).to_hex();
        let mut builder = Request::post(PATH);
        if let Some(signature) = &request.signature {
            builder = builder.header("x-flowtriq-signature", signature);
        }
        let http_request = builder
            .body(Body::from(request.body.clone()))
            .map_err(|e| e.to_string())?;
        let response = app
            .clone()
            .oneshot(http_request)
            .await
            .map_err(|e| e.to_string())?;
        rejections += usize::from(!response.status().is_success());
        let headers = format!("{:?}", response.headers());
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let body = String::from_utf8_lossy(&body);
        for (what, text) in [("headers", headers.as_str()), ("body", &body)] {
            assert!(
                !text.contains(SECRET),
                "{}: secret in response {what}",
                case.name
            );
            assert!(
                !text.contains(&expected_mac),
                "{}: expected MAC in response {what}",
                case.name
            );
        }
        let logs = captured.text();
        assert!(
            !logs.contains(&expected_mac),
            "{}: expected MAC logged",
            case.name
        );
    }

    let logs = captured.text();
    assert!(rejections > 20, "the table should exercise many rejections");
    assert!(
        logs.contains("signature_mismatch"),
        "rejections are logged: {logs:.400}"
    );
    assert!(logs.contains("timestamp"), "replay refusals are logged");
    assert!(
        logs.contains("whitespace"),
        "the whitespace warning is logged"
    );
    assert!(!logs.contains(SECRET), "secret logged:\n{logs}");
    Ok(())
}

#[test]
fn debug_of_every_type_holding_a_secret_is_redacted() -> Result<(), String> {
    let verifier = Verifier::new(SECRET).with_secret(format!("{SECRET}-old"));
    let layer = VerifyWebhookLayer::from_verifier(verifier.clone());
    let service = layer.layer(tower::service_fn(|_: Request| async {
        Ok::<_, std::convert::Infallible>(())
    }));
    let config = ReceiverConfig::from_lookup(|name| {
        (name == "FLOWTRIQ_WEBHOOK_SECRET").then(|| SECRET.to_owned())
    })
    .map_err(|e| e.to_string())?;
    for printed in [
        format!("{:?}", Secret::new(SECRET)),
        format!("{verifier:?}"),
        format!("{verifier:#?}"),
        format!("{layer:?}"),
        format!("{service:?}"),
        format!("{config:?}"),
    ] {
        assert!(!printed.contains(SECRET), "{printed}");
        assert!(!printed.contains("case-table"), "{printed}");
    }
    Ok(())
}
