//! The shared case table against actix-web, through the middleware and through the extractor
//! alone, in process and over TCP, and the actix-specific behaviour around it.

#![allow(clippy::panic)] // a test fails by panicking

mod support;

use std::time::Duration;

use actix_web::{
    App, HttpResponse, HttpServer,
    body::MessageBody,
    dev::ServiceResponse,
    http::{Method, StatusCode},
    test, web,
};
use flowtriq_webhook::{Deduplicator, Secret, Verifier, sign};
use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
use flowtriq_webhook_examples::echo;
use futures_util::StreamExt as _;
use support::{
    PATH, SECRET, WireRequest, WireResponse,
    dedup::{Handler, Running, Store},
    sha256_hex,
};

/// `web::Bytes` accepts 256 KiB by default: raise it above the 1 MiB of the case table.
const PAYLOAD_LIMIT: usize = 2 * 1024 * 1024;

/// The test handler: the example's echo, plus a hash of the raw body as `web::Bytes` reads it.
async fn echo_handler(event: FlowtriqEvent, raw: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-raw-body-sha256", sha256_hex(&raw)))
        .json(echo(&event))
}

/// `POST /webhook` behind the middleware, on a scope.
fn with_middleware(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(PAYLOAD_LIMIT))
        .service(
            web::scope(PATH)
                .wrap(VerifyWebhook::new(SECRET))
                .route("", web::post().to(echo_handler)),
        );
}

/// The same contract through the extractor alone, with the verifier as plain app data. The
/// extractor consumes the payload, so the raw body comes from the verified event.
fn with_extractor(config: &mut web::ServiceConfig) {
    config
        .app_data(Verifier::new(SECRET))
        .route(PATH, web::post().to(extractor_handler));
}

/// As [`with_extractor`], with the verifier in `web::Data`.
fn with_extractor_data(config: &mut web::ServiceConfig) {
    config
        .app_data(web::Data::new(Verifier::new(SECRET)))
        .route(PATH, web::post().to(extractor_handler));
}

async fn extractor_handler(event: FlowtriqEvent) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-raw-body-sha256", sha256_hex(event.body())))
        .json(echo(&event))
}

/// A `TestRequest` for `POST /webhook`; actix's helper always sets `Content-Length`.
fn test_request(request: WireRequest) -> test::TestRequest {
    let mut builder = test::TestRequest::post()
        .uri(PATH)
        .insert_header(("content-type", "application/json"));
    if let Some(signature) = request.signature {
        builder = builder.insert_header(("x-flowtriq-signature", signature));
    }
    builder.set_payload(request.body)
}

async fn from_service_response<B: MessageBody>(
    response: ServiceResponse<B>,
) -> Result<WireResponse, String> {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = test::try_read_body(response)
        .await
        .map_err(|e| Into::<Box<dyn std::error::Error>>::into(e).to_string())?
        .to_vec();
    Ok(WireResponse {
        status,
        headers,
        body,
    })
}

/// Runs the in-process cases against an app built from `configure`.
macro_rules! run_in_process {
    ($adapter:expr, $configure:expr) => {{
        let app = test::init_service(App::new().configure($configure)).await;
        let app = &app;
        support::run_cases($adapter, support::in_process_cases(), |request| {
            let call = test::try_call_service(app, test_request(request).to_request());
            async move { from_service_response(call.await.map_err(|e| e.to_string())?).await }
        })
        .await;
    }};
}

#[actix_web::test]
async fn case_table_in_process_with_middleware() {
    run_in_process!("actix middleware", with_middleware);
}

#[actix_web::test]
async fn case_table_in_process_with_extractor() {
    run_in_process!("actix extractor", with_extractor);
}

#[actix_web::test]
async fn case_table_in_process_with_extractor_and_data() {
    run_in_process!("actix extractor with web::Data", with_extractor_data);
}

/// Serves the app `configure` builds on an ephemeral loopback port, from a thread with its own
/// actix system, so that a test on any runtime can start it. Stopped when dropped.
fn serve<F>(configure: F) -> std::io::Result<Running>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || App::new().configure(configure.clone()))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    let handle = server.handle();
    let thread = std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    Ok(Running::new(addr, move || {
        // Sent at once; the thread ends when the server has stopped.
        drop(handle.stop(false));
        let _ = thread.join();
    }))
}

#[actix_web::test]
async fn case_table_over_tcp_with_middleware() -> std::io::Result<()> {
    let server = serve(with_middleware)?;
    let addr = server.addr;
    support::run_cases("actix middleware over TCP", support::cases(), |request| {
        support::tcp::send(addr, request)
    })
    .await;
    Ok(())
}

#[actix_web::test]
async fn case_table_over_tcp_with_extractor() -> std::io::Result<()> {
    let server = serve(with_extractor)?;
    let addr = server.addr;
    support::run_cases("actix extractor over TCP", support::cases(), |request| {
        support::tcp::send(addr, request)
    })
    .await;
    Ok(())
}

const TEST_EVENT: &[u8] = br#"{"event_type":"test"}"#;

/// Sends a `TestRequest` to an initialised app and reads the answer (a macro, because the
/// request type `to_request` builds is not exported by actix-web).
macro_rules! call {
    ($app:expr, $request:expr) => {
        from_service_response(
            test::try_call_service($app, $request.to_request())
                .await
                .map_err(|e| e.to_string())?,
        )
        .await?
    };
}

fn signed(body: &[u8]) -> test::TestRequest {
    test_request(WireRequest {
        signature: Some(sign(&Secret::new(SECRET), body)),
        body: body.to_vec(),
        chunked: false,
    })
}

#[actix_web::test]
async fn the_payload_put_back_is_the_verified_buffer_not_a_copy() -> Result<(), String> {
    async fn handler(
        event: FlowtriqEvent,
        mut payload: web::Payload,
    ) -> actix_web::Result<HttpResponse> {
        let mut chunks = vec![];
        while let Some(chunk) = payload.next().await {
            chunks.push(chunk?);
        }
        let same_buffer = chunks.len() == 1
            && chunks
                .first()
                .is_some_and(|chunk| chunk.as_ptr() == event.body().as_ptr());
        Ok(HttpResponse::Ok()
            .insert_header(("x-same-buffer", same_buffer.to_string()))
            .finish())
    }
    let app = test::init_service(
        App::new().service(
            web::scope(PATH)
                .wrap(VerifyWebhook::new(SECRET))
                .route("", web::post().to(handler)),
        ),
    )
    .await;
    let response = call!(&app, signed(TEST_EVENT));
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-same-buffer"), Some("true"));
    Ok(())
}

#[actix_web::test]
async fn extractor_without_middleware_or_app_data_is_a_clear_500() -> Result<(), String> {
    let app = test::init_service(App::new().route(
        PATH,
        web::post().to(|_: FlowtriqEvent| async { HttpResponse::Ok().finish() }),
    ))
    .await;
    let response = call!(&app, signed(TEST_EVENT));
    assert_eq!(response.status, 500);
    let body = String::from_utf8_lossy(&response.body);
    assert!(body.contains("VerifyWebhook"), "{body}");
    assert!(body.contains("app_data"), "{body}");
    Ok(())
}

fn get(path: &str) -> test::TestRequest {
    test::TestRequest::default().method(Method::GET).uri(path)
}

#[actix_web::test]
async fn a_scope_guards_only_the_webhook_while_app_wrap_guards_every_path() -> Result<(), String> {
    let scoped = test::init_service(
        App::new()
            .configure(with_middleware)
            .route("/health", web::get().to(HttpResponse::Ok)),
    )
    .await;
    assert_eq!(call!(&scoped, get("/health")).status, 200);
    assert_eq!(call!(&scoped, get("/elsewhere")).status, 404);
    assert_eq!(
        call!(&scoped, test::TestRequest::post().uri(PATH)).status,
        401
    );
    assert_eq!(call!(&scoped, signed(TEST_EVENT)).status, 200);

    let whole_app = test::init_service(
        App::new()
            .wrap(VerifyWebhook::new(SECRET))
            .app_data(web::PayloadConfig::new(PAYLOAD_LIMIT))
            .route(PATH, web::post().to(echo_handler))
            .route("/health", web::get().to(HttpResponse::Ok)),
    )
    .await;
    for path in ["/health", "/elsewhere"] {
        let response = call!(&whole_app, get(path));
        assert_eq!(response.status, 401, "{path}");
        assert_eq!(response.body, br#"{"error":"missing_signature"}"#, "{path}");
    }
    assert_eq!(call!(&whole_app, signed(TEST_EVENT)).status, 200);
    Ok(())
}

#[actix_web::test]
async fn builder_rotation_limit_and_replay_window() -> Result<(), String> {
    let app = test::init_service(
        App::new().service(
            web::scope(PATH)
                .wrap(
                    VerifyWebhook::new("new-secret")
                        .secret(SECRET)
                        .body_limit(64),
                )
                .route("", web::post().to(echo_handler)),
        ),
    )
    .await;
    // The old secret still verifies; 64 bytes pass, 65 do not.
    assert_eq!(call!(&app, signed(TEST_EVENT)).status, 200);
    assert_eq!(call!(&app, signed(&support::event_of_len(64))).status, 200);
    assert_eq!(call!(&app, signed(&support::event_of_len(65))).status, 413);

    let app = test::init_service(
        App::new().service(
            web::scope(PATH)
                .wrap(VerifyWebhook::new(SECRET).replay_window(Duration::from_secs(300)))
                .route("", web::post().to(echo_handler)),
        ),
    )
    .await;
    let response = call!(&app, signed(TEST_EVENT));
    assert_eq!(
        (response.status, response.body.as_slice()),
        (401, br#"{"error":"missing_timestamp"}"#.as_slice())
    );
    Ok(())
}

#[actix_web::test]
async fn web_bytes_downstream_needs_payload_config_raised() -> Result<(), String> {
    // A verified 300 KiB event passes the middleware (1 MiB), but `web::Bytes` keeps actix's
    // own 256 KiB default unless `PayloadConfig` is raised, as the crate docs say.
    let body = support::event_of_len(300 * 1024);
    let default_config = test::init_service(
        App::new().service(
            web::scope(PATH)
                .wrap(VerifyWebhook::new(SECRET))
                .route("", web::post().to(echo_handler)),
        ),
    )
    .await;
    assert_eq!(call!(&default_config, signed(&body)).status, 413);

    let raised = test::init_service(App::new().configure(with_middleware)).await;
    assert_eq!(call!(&raised, signed(&body)).status, 200);
    Ok(())
}

#[actix_web::test]
async fn an_error_from_the_wrapped_service_releases_the_delivery() -> Result<(), String> {
    use actix_web::dev::Service as _;
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    let failed_once = Arc::new(AtomicBool::new(false));
    let app = test::init_service(
        App::new()
            .app_data(web::PayloadConfig::new(PAYLOAD_LIMIT))
            .service(
                web::scope(PATH)
                    // Inside the middleware: fails the first delivery with an `Err`.
                    .wrap_fn(move |request, service| {
                        let fail = !failed_once.swap(true, Ordering::SeqCst);
                        let call = service.call(request);
                        async move {
                            if fail {
                                return Err(actix_web::error::ErrorServiceUnavailable("down"));
                            }
                            call.await
                        }
                    })
                    .wrap(VerifyWebhook::new(SECRET).deduplicate(Deduplicator::in_memory()))
                    .route("", web::post().to(echo_handler)),
            ),
    )
    .await;
    let failed = test::try_call_service(&app, signed(TEST_EVENT).to_request()).await;
    assert!(failed.is_err(), "the error goes out as it is");
    let retry = call!(&app, signed(TEST_EVENT));
    assert_eq!(retry.status, 200);
    assert_ne!(retry.body, br#"{"duplicate":true}"#, "the retry is handled");
    let again = call!(&app, signed(TEST_EVENT));
    assert_eq!(
        (again.status, again.body.as_slice()),
        (200, br#"{"duplicate":true}"#.as_slice())
    );
    assert_eq!(again.header("content-type"), Some("application/json"));
    Ok(())
}

#[actix_web::test]
async fn debug_never_shows_the_secret() {
    let middleware = VerifyWebhook::new("hunter2-secret").secret("older-secret");
    let debug = format!("{middleware:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("older"),
        "{debug}"
    );
}

/// An actix app de-duplicating with `deduplicator`, served on a free loopback port.
fn start_deduplicated(deduplicator: Deduplicator, handler: Handler) -> Running {
    let configure = move |config: &mut web::ServiceConfig| {
        let handler = handler.clone();
        config.service(
            web::scope(PATH)
                .wrap(VerifyWebhook::new(SECRET).deduplicate(deduplicator.clone()))
                .route(
                    "",
                    web::post().to(move |FlowtriqEvent(event): FlowtriqEvent| {
                        let handler = handler.clone();
                        async move {
                            let (status, body) = handler.run(&event).await;
                            HttpResponse::build(
                                StatusCode::from_u16(status)
                                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                            )
                            .json(body)
                        }
                    }),
                ),
        );
    };
    serve(configure).unwrap_or_else(|e| panic!("cannot serve on loopback: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_the_memory_store() {
    support::dedup::scenarios("actix", Store::Memory, start_deduplicated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_with_redis() {
    support::dedup::scenarios("actix", Store::Redis, start_deduplicated).await;
}
