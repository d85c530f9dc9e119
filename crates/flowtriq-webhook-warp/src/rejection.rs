//! The rejection the filters raise, and the `recover` step that answers it.

use std::fmt;

use flowtriq_webhook::Error;
use warp::{
    Rejection,
    http::{HeaderValue, StatusCode, header},
    reply::Response,
};

/// Why [`event`](crate::event) refused a delivery: a custom warp rejection carrying the
/// core [`Error`].
///
/// [`recover`] answers it with the error's status (401, 400, 413…) and
/// `{"error":"<code>"}`. In a `recover` function of your own, find it with
/// [`Rejection::find`] and answer with [`response`](Self::response):
///
/// ```
/// use std::convert::Infallible;
/// use flowtriq_webhook_warp::WebhookRejection;
/// use warp::{http::StatusCode, reply::Reply, Rejection};
///
/// async fn handle_rejection(rejection: Rejection) -> Result<warp::reply::Response, Infallible> {
///     if let Some(webhook) = rejection.find::<WebhookRejection>() {
///         return Ok(webhook.response());
///     }
///     // ... the application's other rejections ...
///     Ok(warp::reply::with_status("not found", StatusCode::NOT_FOUND).into_response())
/// }
/// ```
///
/// Its `Debug` and `Display` name the reason and never a secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRejection {
    error: Error,
}

impl WebhookRejection {
    pub(crate) fn new(error: Error) -> Self {
        Self { error }
    }

    /// The reason, with its [`code`](Error::code) and [`status`](Error::status).
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The reason, by value.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The answer: the error's status, `Content-Type: application/json` and
    /// `{"error":"<code>"}`.
    pub fn response(&self) -> Response {
        let mut response = Response::new(self.error.response_body().into());
        *response.status_mut() =
            StatusCode::from_u16(self.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl From<Error> for WebhookRejection {
    fn from(error: Error) -> Self {
        Self::new(error)
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl warp::reject::Reject for WebhookRejection {}

/// Answers a [`WebhookRejection`] and hands every other rejection back to warp, for
/// [`Filter::recover`](warp::Filter::recover).
///
/// Without it warp answers a custom rejection with `500 Internal Server Error`: a forged
/// delivery would look like a server failure, and Flowtriq would retry a body that is too
/// large or malformed. Other rejections (`404`, `405`, a later `recover` of yours) are left
/// as they were.
///
/// ```
/// use flowtriq_webhook::{sign, Secret, VerifiedEvent, Verifier};
/// use warp::Filter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let webhook = warp::path("webhook")
///     .and(warp::post())
///     .and(flowtriq_webhook_warp::event(Verifier::new("my-webhook-secret")))
///     .map(|event: VerifiedEvent| event.event_type.to_string());
/// let health = warp::path("health").and(warp::get()).map(|| "ok");
/// let routes = webhook.or(health).recover(flowtriq_webhook_warp::recover);
///
/// let body = br#"{"event_type":"test"}"#;
/// let signed = warp::test::request()
///     .method("POST")
///     .path("/webhook")
///     .header("x-flowtriq-signature", sign(&Secret::new("my-webhook-secret"), body))
///     .body(body)
///     .reply(&routes)
///     .await;
/// assert_eq!(signed.status(), 200);
/// assert_eq!(signed.body().as_ref(), b"test");
///
/// let forged = warp::test::request()
///     .method("POST")
///     .path("/webhook")
///     .body(body)
///     .reply(&routes)
///     .await;
/// assert_eq!(forged.status(), 401);
/// assert_eq!(forged.headers()["content-type"], "application/json");
/// assert_eq!(forged.body().as_ref(), br#"{"error":"missing_signature"}"#);
///
/// // Not ours: warp's own answers stay.
/// let elsewhere = warp::test::request().path("/nowhere").reply(&routes).await;
/// assert_eq!(elsewhere.status(), 404);
/// # }
/// ```
pub async fn recover(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<WebhookRejection>() {
        Some(ours) => Ok(ours.response()),
        None => Err(rejection),
    }
}
