//! The shared case table against warp's filters, in process and over TCP, and the
//! warp-specific behaviour around them: `recover`, route composition, the streaming limit.

#![allow(clippy::panic)] // a test fails by panicking

mod support;

use bytes::Bytes;
use flowtriq_webhook::{Secret, VerifiedEvent, Verifier, sign};
use flowtriq_webhook_examples::echo;
use flowtriq_webhook_warp::{event_with_body, handle, recover};
use http_body_util::StreamBody;
use support::{LIMIT, PATH, SECRET, WireRequest, WireResponse, sha256_hex};
use tower::ServiceExt;
use warp::{
    Filter, Rejection, Reply,
    http::{Request, Response, StatusCode},
};

/// `POST /webhook` answering the example receivers' echo, plus a hash of the raw body the
/// handler got from the filter. No `recover`: each test says where it goes.
fn webhook() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(event_with_body(Verifier::new(SECRET)))
        .map(|event: VerifiedEvent, raw: Bytes| {
            warp::reply::with_header(
                warp::reply::json(&echo(&event)),
                "x-raw-body-sha256",
                sha256_hex(&raw),
            )
        })
}

/// The app the case table runs against.
fn app() -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    webhook().recover(recover)
}

/// A request through warp's own test helper, which always sends `Content-Length`.
fn test_request(request: &WireRequest) -> warp::test::RequestBuilder {
    let mut builder = warp::test::request()
        .method("POST")
        .path(PATH)
        .header("content-type", "application/json");
    if let Some(signature) = &request.signature {
        builder = builder.header("x-flowtriq-signature", signature.as_str());
    }
    builder.body(&request.body)
}

fn from_test_response(response: Response<Bytes>) -> WireResponse {
    let (parts, body) = response.into_parts();
    WireResponse {
        status: parts.status.as_u16(),
        headers: support::header_pairs(&parts.headers),
        body: body.into(),
    }
}

type StreamedBody = StreamBody<
    futures_util::stream::Iter<std::vec::IntoIter<Result<http_body::Frame<Bytes>, std::io::Error>>>,
>;

/// An `http::Request` with a streamed body, for `warp::service`: chunked requests carry no
/// `Content-Length`, as over the wire.
fn streamed_request(request: &WireRequest) -> Result<Request<StreamedBody>, String> {
    let mut builder = Request::post(PATH).header("content-type", "application/json");
    if let Some(signature) = &request.signature {
        builder = builder.header("x-flowtriq-signature", signature.as_str());
    }
    if !request.chunked {
        builder = builder.header("content-length", request.body.len());
    }
    let frames: Vec<_> = request
        .body
        .chunks(16 * 1024)
        .map(|chunk| Ok(http_body::Frame::data(Bytes::copy_from_slice(chunk))))
        .collect();
    builder
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn case_table_in_process_with_warp_test() {
    let app = &app();
    support::run_cases(
        "warp::test",
        support::in_process_cases(),
        |request| async move { Ok(from_test_response(test_request(&request).reply(app).await)) },
    )
    .await;
}

/// `warp::test` cannot stream a body; `warp::service` takes any `http_body::Body`, so the
/// chunked cases run in process too.
#[tokio::test]
async fn case_table_in_process_streamed_through_warp_service() {
    let service = warp::service(app());
    support::run_cases("warp::service", support::cases(), |request| {
        let service = service.clone();
        async move {
            let response = service
                .oneshot(streamed_request(&request)?)
                .await
                .unwrap_or_else(|never| match never {});
            WireResponse::from_http(response).await
        }
    })
    .await;
}

#[tokio::test]
async fn case_table_over_tcp() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(warp::serve(app()).incoming(listener).run());
    support::run_cases("warp over TCP", support::cases(), |request| {
        support::tcp::send(addr, request)
    })
    .await;
    server.abort();
    Ok(())
}

const TEST_EVENT: &[u8] = br#"{"event_type":"test"}"#;

fn signed(body: &[u8]) -> WireRequest {
    WireRequest {
        signature: Some(sign(&Secret::new(SECRET), body)),
        body: body.to_vec(),
        chunked: false,
    }
}

fn unsigned(body: &[u8]) -> WireRequest {
    WireRequest {
        signature: None,
        body: body.to_vec(),
        chunked: false,
    }
}

#[tokio::test]
async fn recover_leaves_other_rejections_to_warp() {
    let health = warp::path("health").and(warp::get()).map(|| "ok");
    let routes = webhook().or(health).recover(recover);

    let ours = test_request(&unsigned(TEST_EVENT)).reply(&routes).await;
    assert_eq!(ours.status(), 401);
    assert_eq!(ours.headers()["content-type"], "application/json");
    assert_eq!(ours.body().as_ref(), br#"{"error":"missing_signature"}"#);

    let handled = test_request(&signed(TEST_EVENT)).reply(&routes).await;
    assert_eq!(handled.status(), 200);

    let health = warp::test::request().path("/health").reply(&routes).await;
    assert_eq!(
        (health.status().as_u16(), health.body().as_ref()),
        (200, b"ok".as_slice())
    );

    // Wrong method on our path: warp's 405, not ours (the filter never ran).
    let wrong_method = warp::test::request().path(PATH).reply(&routes).await;
    assert_eq!(wrong_method.status(), 405);

    // Unknown path: warp's 404.
    let unknown = warp::test::request()
        .method("POST")
        .path("/elsewhere")
        .reply(&routes)
        .await;
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn a_recover_of_the_application_still_sees_other_rejections() {
    let routes = webhook()
        .recover(recover)
        .recover(|rejection: Rejection| async move {
            if rejection.is_not_found() {
                Ok(warp::reply::with_status(
                    "no such route",
                    warp::http::StatusCode::NOT_FOUND,
                ))
            } else {
                Err(rejection)
            }
        });
    let unknown = warp::test::request()
        .method("POST")
        .path("/elsewhere")
        .reply(&routes)
        .await;
    assert_eq!(
        (unknown.status().as_u16(), unknown.body().as_ref()),
        (404, b"no such route".as_slice())
    );
    let ours = test_request(&unsigned(TEST_EVENT)).reply(&routes).await;
    assert_eq!(ours.status(), 401);
}

#[tokio::test]
async fn without_recover_ours_is_a_500() {
    let response = test_request(&unsigned(TEST_EVENT)).reply(&webhook()).await;
    assert_eq!(response.status(), 500);
    let body = String::from_utf8_lossy(response.body());
    assert!(body.contains("WebhookRejection"), "{body}");
    assert!(!body.contains(SECRET), "{body}");
}

#[tokio::test]
async fn a_catch_all_after_the_route_needs_recover_on_the_route() {
    let fallback = warp::any().map(|| "fallback");
    // `or` tries the fallback when the webhook filter rejects: the 401 is lost, and a
    // `recover` after the `or` never sees it.
    let lost = webhook().or(fallback);
    let response = test_request(&unsigned(TEST_EVENT)).reply(&lost).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), b"fallback");
    // `recover` on the route makes its answer final.
    let kept = webhook().recover(recover).or(fallback);
    let response = test_request(&unsigned(TEST_EVENT)).reply(&kept).await;
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_signature_that_is_not_ascii_is_a_401_not_warps_400() {
    let value = b"sha256=\xff\xfe";
    let response = test_request(&unsigned(TEST_EVENT))
        .header("x-flowtriq-signature", value.as_slice())
        .reply(&app())
        .await;
    // The same answer the core gives for these bytes.
    let core = Verifier::new(SECRET)
        .verify(Some(value), TEST_EVENT)
        .err()
        .map(|error| (error.status(), error.response_body()));
    assert_eq!(
        Some((
            response.status().as_u16(),
            String::from_utf8_lossy(response.body()).into_owned()
        )),
        core
    );
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn an_oversized_content_length_is_refused_before_reading() -> Result<(), String> {
    // The body never yields: only a refusal before reading can answer.
    let body = StreamBody::new(futures_util::stream::pending::<
        Result<http_body::Frame<Bytes>, std::io::Error>,
    >());
    let request = Request::post(PATH)
        .header("x-flowtriq-signature", sign(&Secret::new(SECRET), b""))
        .header("content-length", LIMIT + 1)
        .body(body)
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        warp::service(app()).oneshot(request),
    )
    .await
    .map_err(|_| "the filter waited for the body".to_owned())?
    .unwrap_or_else(|never| match never {});
    let response = WireResponse::from_http(response).await?;
    assert_eq!(response.status, 413);
    assert_eq!(response.body, br#"{"error":"payload_too_large"}"#);
    Ok(())
}

#[tokio::test]
async fn a_body_that_fails_midway_is_a_400() -> Result<(), String> {
    let frames = vec![
        Ok(http_body::Frame::data(Bytes::from_static(br#"{"event_"#))),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    let request = Request::post(PATH)
        .header(
            "x-flowtriq-signature",
            sign(&Secret::new(SECRET), TEST_EVENT),
        )
        .body(StreamBody::new(futures_util::stream::iter(frames)))
        .map_err(|e| e.to_string())?;
    let response = warp::service(app())
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let response = WireResponse::from_http(response).await?;
    assert_eq!(response.status, 400);
    assert_eq!(response.body, br#"{"error":"body_read_failed"}"#);
    Ok(())
}

#[tokio::test]
async fn event_filter_keeps_the_raw_body_in_the_event() {
    let routes = warp::post()
        .and(flowtriq_webhook_warp::event(Verifier::new(SECRET)))
        .map(|event: VerifiedEvent| sha256_hex(event.body()))
        .recover(recover);
    let response = test_request(&signed(TEST_EVENT)).reply(&routes).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_ref(), sha256_hex(TEST_EVENT).as_bytes());
}

/// `handle` without a deduplicator answers the case table as the filter and `recover` do.
#[tokio::test]
async fn handle_answers_the_case_table() {
    let routes = warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(handle(
            Verifier::new(SECRET),
            |event: VerifiedEvent| async move {
                let raw = sha256_hex(event.body());
                warp::reply::with_header(warp::reply::json(&echo(&event)), "x-raw-body-sha256", raw)
            },
        ));
    let service = warp::service(routes);
    support::run_cases("warp handle", support::cases(), |request| {
        let service = service.clone();
        async move {
            let response = service
                .oneshot(streamed_request(&request)?)
                .await
                .unwrap_or_else(|never| match never {});
            WireResponse::from_http(response).await
        }
    })
    .await;
}

#[tokio::test]
async fn handle_answers_are_final_behind_or() {
    let webhook =
        warp::path("webhook").and(handle(Verifier::new(SECRET), |_| async { warp::reply() }));
    let routes = webhook.or(warp::any().map(|| "fallback"));
    let forged = test_request(&unsigned(TEST_EVENT)).reply(&routes).await;
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.headers()["content-type"], "application/json");
    assert_eq!(forged.body().as_ref(), br#"{"error":"missing_signature"}"#);
    let elsewhere = warp::test::request()
        .path("/elsewhere")
        .reply(&routes)
        .await;
    assert_eq!(elsewhere.body().as_ref(), b"fallback");
}

#[tokio::test]
async fn a_panicking_handler_releases_the_delivery() {
    let panicked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let receiver = flowtriq_webhook::Receiver::new(Verifier::new(SECRET))
        .with_deduplicator(flowtriq_webhook::Deduplicator::in_memory());
    let routes = handle(receiver, move |_| {
        let panicked = panicked.clone();
        async move {
            if !panicked.swap(true, std::sync::atomic::Ordering::SeqCst) {
                panic!("handler failed");
            }
            "handled"
        }
    });
    let first = tokio::spawn({
        let routes = routes.clone();
        async move { test_request(&signed(TEST_EVENT)).reply(&routes).await }
    })
    .await;
    assert!(first.is_err_and(|e| e.is_panic()));
    // Not 409 and not a duplicate: the retry runs the handler.
    let retry = test_request(&signed(TEST_EVENT)).reply(&routes).await;
    assert_eq!(
        (retry.status().as_u16(), retry.body().as_ref()),
        (200, b"handled".as_slice())
    );
    let again = test_request(&signed(TEST_EVENT)).reply(&routes).await;
    assert_eq!(again.body().as_ref(), br#"{"duplicate":true}"#);
}

/// A warp route de-duplicating with `deduplicator`, served on a free loopback port.
fn start_deduplicated(
    deduplicator: flowtriq_webhook::Deduplicator,
    handler: support::dedup::Handler,
) -> support::dedup::Running {
    let receiver =
        flowtriq_webhook::Receiver::new(Verifier::new(SECRET)).with_deduplicator(deduplicator);
    let routes = warp::path("webhook")
        .and(warp::path::end())
        .and(warp::post())
        .and(handle(receiver, move |event: VerifiedEvent| {
            let handler = handler.clone();
            async move {
                let (status, body) = handler.run(&event).await;
                warp::reply::with_status(
                    warp::reply::json(&body),
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                )
            }
        }));
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .and_then(tokio::net::TcpListener::from_std)
        .unwrap_or_else(|e| panic!("cannot listen on loopback: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let server = tokio::spawn(warp::serve(routes).incoming(listener).run());
    support::dedup::Running::new(addr, move || server.abort())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_the_memory_store() {
    support::dedup::scenarios("warp", support::dedup::Store::Memory, start_deduplicated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_redis() {
    support::dedup::scenarios("warp", support::dedup::Store::Redis, start_deduplicated).await;
}
