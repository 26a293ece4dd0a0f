//! The one place that turns failures into HTTP answers: RFC 6749 §5.2 / RFC 6750 §3 JSON at
//! the OAuth endpoints, docs/card-login.md §5 JSON at the card endpoints, pages for residents
//! ([`WebError`]); pages for operators and the admin API's JSON ([`admin`]). Handlers return
//! one of these types; the single [`ResponseError`] below answers for all of them.

mod admin;
mod ssf;

pub use admin::{html_status, see_other, ApiError, ConsoleError};

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use super::i18n::Lang;
use super::views::{render, ErrorPage};
use crate::card::protocol::{CardErrorCode, ErrorBody};
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// JSON OAuth error (token, revocation, introspection endpoints).
    #[error("{0}")]
    OAuth(OAuthError),
    /// Client authentication failed with HTTP Basic: 401 with a Basic challenge.
    #[error("{0}")]
    ClientBasic(OAuthError),
    /// Bearer token refused (RFC 6750 §3).
    #[error("{0}")]
    Bearer(OAuthError),
    /// A DPoP proof refused at the token endpoint (RFC 9449 §5): the JSON error, and a
    /// `DPoP-Nonce` header when the client is to use a nonce (§8).
    #[error("{error}")]
    DpopProof {
        error: OAuthError,
        nonce: Option<String>,
    },
    /// A request refused at a resource endpoint where DPoP is the answer (RFC 9449 §7.1): a
    /// `DPoP` challenge naming the proof algorithms, and a `DPoP-Nonce` when one is to be used.
    #[error("{error}")]
    DpopChallenge {
        error: OAuthError,
        nonce: Option<String>,
    },
    /// No bearer token at all: 401 with a bare challenge (RFC 6750 §3.1).
    #[error("bearer token missing")]
    BearerMissing,
    /// A request body over the endpoint's limit (413), shaped for OAuth or card clients.
    #[error("request body too large")]
    TooLarge { card: bool },
    /// Card-login protocol error (spec §5).
    #[error("card: {0}")]
    Card(CardErrorCode),
    /// A page for the resident.
    #[error("page: {}", .0.message)]
    Page(Box<PageError>),
    /// The database (or another dependency) is down: 503, nothing lost.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure: 500 with an empty body; the cause goes to the log.
    #[error("internal: {0}")]
    Internal(String),
}

/// What an error page shows: the message, what to do, and where to go next.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub lang: Lang,
    pub message: String,
    pub hint: Option<String>,
    pub code: Option<String>,
    pub retry_url: Option<String>,
    pub back_url: Option<String>,
}

impl WebError {
    pub fn page(status: StatusCode, lang: Lang, message: impl Into<String>) -> WebError {
        WebError::Page(Box::new(PageError {
            status,
            lang,
            message: message.into(),
            hint: None,
            code: None,
            retry_url: None,
            back_url: None,
        }))
    }
}

impl WebError {
    /// A provider refusal or failure; the refusals a person sees as a page are in `lang`.
    pub fn from_provider(e: ProviderError, lang: Lang) -> WebError {
        let bad_request = |message: &str| WebError::page(StatusCode::BAD_REQUEST, lang, message);
        match e {
            ProviderError::Store(s) if s.is_unavailable() => WebError::Unavailable(s.to_string()),
            ProviderError::Store(s) => WebError::Internal(s.to_string()),
            ProviderError::Card(code) => WebError::Card(code),
            ProviderError::TransactionExpired { .. } => bad_request(lang.texts().request_expired),
            ProviderError::BadRequest(message) => bad_request(message),
            ProviderError::Invalid(message) => bad_request(&message),
            e @ (ProviderError::Crypto(_) | ProviderError::Internal(_)) => {
                WebError::Internal(e.to_string())
            }
        }
    }
}

impl From<ProviderError> for WebError {
    fn from(e: ProviderError) -> WebError {
        WebError::from_provider(e, Lang::default())
    }
}

impl From<OAuthError> for WebError {
    fn from(e: OAuthError) -> WebError {
        WebError::OAuth(e)
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> WebError {
        WebError::Internal(format!("template: {e}"))
    }
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// A failure on its way out, whichever surface it came from.
#[derive(Debug, thiserror::Error)]
enum Answer {
    #[error(transparent)]
    Web(WebError),
    #[error(transparent)]
    Console(ConsoleError),
    #[error(transparent)]
    Api(ApiError),
    #[error(transparent)]
    Ssf(crate::provider::ssf::SsfError),
}

impl ResponseError for Answer {
    fn status_code(&self) -> StatusCode {
        match self {
            Answer::Web(e) => e.status(),
            Answer::Console(e) => e.status(),
            Answer::Api(e) => e.status(),
            Answer::Ssf(e) => ssf::status(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Answer::Web(e) => e.response(),
            Answer::Console(e) => e.response(),
            Answer::Api(e) => e.response(),
            Answer::Ssf(e) => ssf::response(e),
        }
    }
}

impl From<WebError> for actix_web::Error {
    fn from(e: WebError) -> actix_web::Error {
        Answer::Web(e).into()
    }
}

impl From<ConsoleError> for actix_web::Error {
    fn from(e: ConsoleError) -> actix_web::Error {
        Answer::Console(e).into()
    }
}

impl From<crate::provider::ssf::SsfError> for actix_web::Error {
    fn from(e: crate::provider::ssf::SsfError) -> actix_web::Error {
        Answer::Ssf(e).into()
    }
}

impl From<ApiError> for actix_web::Error {
    fn from(e: ApiError) -> actix_web::Error {
        Answer::Api(e).into()
    }
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::OAuth(e) | WebError::Bearer(e) | WebError::ClientBasic(e) => {
                StatusCode::from_u16(e.error.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            WebError::Card(c) => {
                StatusCode::from_u16(c.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            WebError::DpopProof { error, .. } => {
                StatusCode::from_u16(error.error.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            WebError::DpopChallenge { error, .. } => match error.error {
                ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
                ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            },
            WebError::BearerMissing => StatusCode::UNAUTHORIZED,
            WebError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Page(page) => page.status,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn response(&self) -> HttpResponse {
        let status = self.status();
        match self {
            WebError::OAuth(e) => json(status, e),
            WebError::ClientBasic(e) => {
                let mut r = json(status, e);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Basic realm=\"mykey-connect\""),
                );
                r
            }
            WebError::Bearer(e) => {
                let challenge = format!(
                    "Bearer realm=\"mykey-connect\", error=\"{}\", error_description=\"{}\"",
                    e.error.as_str(),
                    e.error_description.replace('"', "'")
                );
                let mut r = json(status, e);
                if let Ok(v) = header::HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            WebError::DpopProof { error, nonce } => with_nonce(json(status, error), nonce),
            WebError::DpopChallenge { error, nonce } => {
                let challenge = format!(
                    "DPoP algs=\"{}\", error=\"{}\", error_description=\"{}\"",
                    crate::provider::dpop::algs().join(" "),
                    error.error.as_str(),
                    error.error_description.replace('"', "'")
                );
                let mut r = with_nonce(json(status, error), nonce);
                if let Ok(v) = header::HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            WebError::Card(c) => json(status, &c.body()),
            WebError::BearerMissing => {
                let dpop = format!("DPoP algs=\"{}\"", crate::provider::dpop::algs().join(" "));
                let mut r = HttpResponse::build(status)
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"mykey-connect\""))
                    .insert_header((header::CACHE_CONTROL, "no-store"))
                    .finish();
                // RFC 9449 §7.1: a resource accepting both schemes names both.
                if let Ok(v) = header::HeaderValue::from_str(&dpop) {
                    r.headers_mut().append(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            WebError::TooLarge { card: true } => {
                card_request_error(status, "The request body is too large.")
            }
            WebError::TooLarge { card: false } => json(
                status,
                &OAuthError::invalid_request("The request body is too large."),
            ),
            WebError::Page(page) => match render(&ErrorPage::new(page)) {
                Ok(html) => HttpResponse::build(status)
                    .content_type("text/html; charset=utf-8")
                    .body(html),
                Err(_) => HttpResponse::build(status).finish(),
            },
            WebError::Unavailable(cause) => {
                tracing::error!(%cause, "dependency unavailable");
                json(
                    status,
                    &OAuthError::new(
                        ErrorCode::TemporarilyUnavailable,
                        "The service is temporarily unavailable; try again shortly.",
                    ),
                )
            }
            WebError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                HttpResponse::build(status).finish()
            }
        }
    }
}

/// Adds `DPoP-Nonce` (RFC 9449 §8.1) when there is a nonce to hand out.
pub fn with_nonce(mut response: HttpResponse, nonce: &Option<String>) -> HttpResponse {
    if let Some(v) = nonce
        .as_deref()
        .and_then(|n| header::HeaderValue::from_str(n).ok())
    {
        response
            .headers_mut()
            .insert(header::HeaderName::from_static("dpop-nonce"), v);
    }
    response
}

/// A spec §5 body for an error outside the code list (oversized or malformed bodies).
pub fn card_request_error(status: StatusCode, description: &str) -> HttpResponse {
    json(
        status,
        &ErrorBody {
            error: CardErrorCode::InvalidRequest.as_str().to_owned(),
            error_description: description.to_owned(),
        },
    )
}

/// Resident pages answer infrastructure failures (500, 503) with a page in the browser's
/// language; the JSON body stays for API clients. The cause was logged when the error arose.
pub fn page_errors<B: 'static>() -> actix_web::middleware::ErrorHandlers<B> {
    use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
    fn replace<B>(
        res: actix_web::dev::ServiceResponse<B>,
    ) -> actix_web::Result<ErrorHandlerResponse<B>> {
        let lang = Lang::negotiate(
            None,
            res.request()
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        );
        let status = res.status();
        let page = WebError::page(status, lang, lang.texts().generic_error).response();
        let (req, _) = res.into_parts();
        let res = actix_web::dev::ServiceResponse::new(req, page).map_into_right_body();
        Ok(ErrorHandlerResponse::Response(res))
    }
    ErrorHandlers::new()
        .handler(StatusCode::SERVICE_UNAVAILABLE, replace)
        .handler(StatusCode::INTERNAL_SERVER_ERROR, replace)
}
