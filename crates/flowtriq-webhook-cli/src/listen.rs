//! The `listen` receiver: one axum handler around the core [`Verifier`].
//!
//! The handler takes the raw body as `Bytes` and passes it with the raw signature header to
//! [`Verifier::verify`]; what is printed comes from [`Report`], so this file holds only the
//! HTTP glue.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::post,
};
use flowtriq_webhook::{DEFAULT_BODY_LIMIT, Error, SIGNATURE_HEADER, Verifier};
use serde_json::json;
use tokio::net::TcpListener;

use crate::report::Report;

struct Receiver {
    verifier: Verifier,
    report: Report,
}

/// Serves POST on every path until `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    verifier: Verifier,
    report: Report,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let receiver = Arc::new(Receiver { verifier, report });
    let app = Router::new()
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .with_state(receiver);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return receiver.reject(
                peer,
                &Error::PayloadTooLarge {
                    limit: DEFAULT_BODY_LIMIT,
                },
            );
        }
        Err(rejection) => {
            let line = receiver.report.rejected(
                peer,
                rejection.status().as_u16(),
                "body_read_error",
                &rejection.body_text(),
            );
            outln!("{line}");
            return rejection.into_response();
        }
    };
    let signature = headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes);
    match receiver.verifier.verify(signature, body) {
        Ok(verified) => {
            outln!("{}", receiver.report.accepted(peer, &verified));
            let answer = json!({
                "event_type": verified.event_type.as_str(),
                "incident_id": verified.incident_id(),
                "node": verified.node_name(),
            });
            json_response(StatusCode::OK, answer.to_string())
        }
        Err(error) => receiver.reject(peer, &error),
    }
}

impl Receiver {
    fn reject(&self, peer: SocketAddr, error: &Error) -> Response {
        let line = self
            .report
            .rejected(peer, error.status(), error.code(), &error.to_string());
        outln!("{line}");
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, error.response_body())
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}
