//! The rejection the filters raise, and the `recover` step that answers it.

use std::fmt;

use flowtriq_webhook::{Error, Reply};
use warp::{
    Rejection,
    http::{HeaderValue, StatusCode, header},
    reply::Response,
};

/// Why [`event`](crate::event) refused a delivery: a custom warp rejection carrying the
/// core's [`Reply`], the status and `{"error":"<code>"}` body to answer with.
///
/// [`recover`] answers it with that status (401, 400, 413…) and body. In a `recover` function
/// of your own, find it with [`Rejection::find`] and answer with
/// [`response`](Self::response):
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
    reply: Reply,
}

impl WebhookRejection {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.reply.status
    }

    /// The status and `{"error":"<code>"}` body to answer with.
    pub fn reply(&self) -> &Reply {
        &self.reply
    }

    /// The reply, by value.
    pub fn into_reply(self) -> Reply {
        self.reply
    }

    /// The answer: the reply's status, `Content-Type: application/json` and
    /// `{"error":"<code>"}`.
    pub fn response(&self) -> Response {
        reply_response(&self.reply)
    }
}

/// The response for a reply given instead of running the handler: its status,
/// [`Reply::CONTENT_TYPE`] and its body.
pub(crate) fn reply_response(reply: &Reply) -> Response {
    let mut response = Response::new(reply.body.clone().into());
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Reply::CONTENT_TYPE),
    );
    response
}

impl From<Reply> for WebhookRejection {
    fn from(reply: Reply) -> Self {
        Self { reply }
    }
}

impl From<Error> for WebhookRejection {
    fn from(error: Error) -> Self {
        Self::from(Reply::from(error))
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Flowtriq delivery rejected with {}: {}",
            self.reply.status,
            String::from_utf8_lossy(&self.reply.body)
        )
    }
}

impl std::error::Error for WebhookRejection {}

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
