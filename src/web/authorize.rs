//! `/authorize` (OIDC Core §3.1.2): parse, let the provider decide, answer with a page or a
//! redirect.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use super::cookies;
use super::error::{PageError, WebError};
use super::i18n::Lang;
use crate::oidc::authorize::AuthorizeParams;
use crate::provider::flow::{self, AuthorizeInput, Authorized, Interaction};
use crate::provider::Provider;

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

pub fn accept_language(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
}

pub async fn authorize(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let pairs: Vec<(String, String)> = if req.method() == actix_web::http::Method::POST {
        let bytes = super::body::read(payload, 64 * 1024, false).await?;
        url::form_urlencoded::parse(&bytes).into_owned().collect()
    } else {
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect()
    };
    let params = AuthorizeParams::from_pairs(pairs);
    let lang = Lang::negotiate(params.ui_locales.as_deref(), accept_language(&req));
    let (session, binding) = (
        cookies::value(&req, cookies::SESSION),
        cookies::value(&req, cookies::BROWSER),
    );
    let decided = flow::authorize(
        &p,
        AuthorizeInput {
            params: &params,
            session_cookie: session.as_deref(),
            browser_binding: binding.as_deref(),
        },
    )
    .await
    .map_err(|e| WebError::from_provider(e, lang))?;
    match decided {
        Authorized::Refused(e) => Err(WebError::Page(Box::new(PageError {
            status: StatusCode::BAD_REQUEST,
            lang,
            message: e.error_description,
            hint: None,
            code: Some(e.error.as_str().to_owned()),
            retry_url: None,
            back_url: None,
        }))),
        Authorized::ToClient(location) => Ok(redirect(&location)),
        Authorized::Interact {
            page,
            transaction_id,
            new_binding,
        } => {
            let page = match page {
                Interaction::Login => "login",
                Interaction::Consent => "consent",
            };
            let mut response = redirect(&format!("/{page}/{transaction_id}"));
            if let Some(binding) = new_binding {
                response
                    .add_cookie(&cookies::build(
                        cookies::BROWSER,
                        binding.expose().to_owned(),
                        p.settings.secure_cookies(),
                    ))
                    .map_err(|e| WebError::Internal(e.to_string()))?;
            }
            Ok(response)
        }
    }
}
