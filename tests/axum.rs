//! The shared case table against axum with the tower layer, in process and over TCP, and the
//! tower- and axum-specific behaviour around it.

#![allow(clippy::panic)] // a test fails by panicking

mod support;

use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::Request,
    http::StatusCode,
    response::IntoResponse,
    routing::post,
};
use flowtriq_webhook::{Secret, Verifier, sign};
use flowtriq_webhook_examples::echo;
use flowtriq_webhook_tower::{FlowtriqEvent, VerifiedWebhook, VerifyWebhookLayer};
use support::{PATH, SECRET, WireRequest, WireResponse, sha256_hex};
use tower::ServiceExt;

/// The test handler: the example's echo, plus a hash of the raw body as axum's `Bytes` reads it.
async fn echo_handler(FlowtriqEvent(event): FlowtriqEvent, raw: Bytes) -> impl IntoResponse {
    let same_buffer = raw.as_ptr() == event.body().as_ptr();
    (
        [
            ("x-raw-body-sha256", sha256_hex(&raw)),
            ("x-same-buffer", same_buffer.to_string()),
        ],
        Json(echo(&event)),
    )
}

fn layered_app() -> Router {
    Router::new()
        .route(PATH, post(echo_handler))
        .route_layer(VerifyWebhookLayer::new(SECRET))
}

/// The same contract through the self-verifying extractor, without the layer.
fn extractor_app() -> Router {
    async fn handler(VerifiedWebhook(event): VerifiedWebhook) -> impl IntoResponse {
        (
            [("x-raw-body-sha256", sha256_hex(event.body()))],
            Json(echo(&event)),
        )
    }
    Router::new()
        .route(PATH, post(handler))
        .with_state(Verifier::new(SECRET))
}

fn to_http(request: WireRequest) -> Request {
    let mut builder = Request::post(PATH).header("content-type", "application/json");
    if let Some(signature) = &request.signature {
        builder = builder.header("x-flowtriq-signature", signature);
    }
    let body = if request.chunked {
        let chunks: Vec<Result<Bytes, std::io::Error>> = request
            .body
            .chunks(16 * 1024)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    } else {
        builder = builder.header("content-length", request.body.len());
        Body::from(request.body)
    };
    builder.body(body).unwrap_or_default()
}

async fn send(app: &Router, request: WireRequest) -> Result<WireResponse, String> {
    let response = app
        .clone()
        .oneshot(to_http(request))
        .await
        .map_err(|e| e.to_string())?;
    from_http(response).await
}

async fn from_http(response: axum::response::Response) -> Result<WireResponse, String> {
    WireResponse::from_http(response).await
}

#[tokio::test]
async fn case_table_in_process_with_layer() {
    let app = layered_app();
    support::run_cases("axum layer", support::cases(), |request| {
        send(&app, request)
    })
    .await;
}

#[tokio::test]
async fn case_table_in_process_with_extractor() {
    let app = extractor_app();
    support::run_cases("axum extractor", support::cases(), |request| {
        send(&app, request)
    })
    .await;
}

#[tokio::test]
async fn case_table_over_tcp() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { axum::serve(listener, layered_app()).await });
    support::run_cases("axum over TCP", support::cases(), |request| {
        support::tcp::send(addr, request)
    })
    .await;
    server.abort();
    Ok(())
}

fn signed(body: &'static [u8]) -> Request {
    to_http(WireRequest {
        signature: Some(sign(&Secret::new(SECRET), body)),
        body: body.to_vec(),
        chunked: false,
    })
}

const TEST_EVENT: &[u8] = br#"{"event_type":"test"}"#;

#[tokio::test]
async fn handler_reads_the_verified_buffer_not_a_copy() -> Result<(), String> {
    let response = from_http(
        layered_app()
            .oneshot(signed(TEST_EVENT))
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-same-buffer"), Some("true"));
    Ok(())
}

#[tokio::test]
async fn missing_layer_is_a_clear_500_and_option_is_none() -> Result<(), String> {
    async fn optional(event: Option<FlowtriqEvent>) -> String {
        format!("verified: {}", event.is_some())
    }
    let app = Router::new()
        .route(
            "/required",
            post(|FlowtriqEvent(_): FlowtriqEvent| async { "unreachable" }),
        )
        .route("/optional", post(optional));

    let mut request = signed(TEST_EVENT);
    *request.uri_mut() = "/required"
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| e.to_string())?;
    let response = from_http(
        app.clone()
            .oneshot(request)
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(response.status, 500);
    assert!(String::from_utf8_lossy(&response.body).contains("VerifyWebhookLayer"));

    let mut request = signed(TEST_EVENT);
    *request.uri_mut() = "/optional"
        .parse()
        .map_err(|e: axum::http::uri::InvalidUri| e.to_string())?;
    let response = from_http(app.oneshot(request).await.map_err(|e| e.to_string())?).await?;
    assert_eq!(
        (response.status, response.body.as_slice()),
        (200, b"verified: false".as_slice())
    );
    Ok(())
}

#[tokio::test]
async fn route_layer_leaves_unknown_paths_404_while_layer_answers_401() -> Result<(), String> {
    let route_layered = layered_app();
    let layered = Router::new()
        .route(PATH, post(echo_handler))
        .layer(VerifyWebhookLayer::new(SECRET));
    for (app, want) in [
        (route_layered, StatusCode::NOT_FOUND),
        (layered, StatusCode::UNAUTHORIZED),
    ] {
        let request = Request::get("/elsewhere")
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let response = app.oneshot(request).await.map_err(|e| e.to_string())?;
        assert_eq!(response.status(), want);
    }
    Ok(())
}

#[tokio::test]
async fn an_outer_limit_that_cuts_the_stream_is_a_413() -> Result<(), String> {
    // tower-http's limit wraps the body; its error reaches the layer wrapped in axum's.
    let app = layered_app().layer(tower_http::limit::RequestBodyLimitLayer::new(1024));
    let body = support::event_of_len(4096);
    let request = to_http(WireRequest {
        signature: Some(sign(&Secret::new(SECRET), &body)),
        body,
        chunked: true,
    });
    let response = from_http(app.oneshot(request).await.map_err(|e| e.to_string())?).await?;
    assert_eq!(
        response.status,
        413,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    Ok(())
}

#[tokio::test]
async fn rotation_accepts_the_old_secret() -> Result<(), String> {
    let app = Router::new()
        .route(PATH, post(echo_handler))
        .route_layer(VerifyWebhookLayer::new("new-secret").secret(SECRET));
    let response = from_http(
        app.oneshot(signed(TEST_EVENT))
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(response.status, 200);
    Ok(())
}

/// An axum app de-duplicating with `deduplicator`, served on a free loopback port.
fn start_deduplicated(
    deduplicator: flowtriq_webhook::Deduplicator,
    handler: support::dedup::Handler,
) -> support::dedup::Running {
    let app = Router::new()
        .route(
            PATH,
            post(move |FlowtriqEvent(event): FlowtriqEvent| async move {
                let (status, body) = handler.run(&event).await;
                (
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                    Json(body),
                )
            }),
        )
        .route_layer(VerifyWebhookLayer::new(SECRET).deduplicate(deduplicator));
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .and_then(tokio::net::TcpListener::from_std)
        .unwrap_or_else(|e| panic!("cannot listen on loopback: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    support::dedup::Running::new(addr, move || server.abort())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_the_memory_store() {
    support::dedup::scenarios("axum", support::dedup::Store::Memory, start_deduplicated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_redis() {
    support::dedup::scenarios("axum", support::dedup::Store::Redis, start_deduplicated).await;
}
