//! Discovery, JWKS, token, userinfo, revocation, introspection and PAR endpoints.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::body;
use super::error::{with_nonce, WebError};
use crate::domain::Client;
use crate::oidc::discovery::paths;
use crate::oidc::token::TokenForm;
use crate::oidc::{ErrorCode, OAuthError};
use crate::provider::client_auth::{authenticate, AuthFailure};
use crate::provider::dpop::{self, DpopRefusal};
use crate::provider::{grants, Provider};

const FORM_LIMIT: usize = 64 * 1024;

pub async fn discovery(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(p.discovery_json.clone())
}

pub async fn jwks(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(p.keys.snapshot().jwks_json.clone())
}

/// Reads a form body of an authenticated endpoint and authenticates the client.
async fn client_form(
    p: &Provider,
    req: &HttpRequest,
    payload: web::Payload,
    endpoint: &str,
) -> Result<(TokenForm, std::sync::Arc<Client>), WebError> {
    client_form_bytes(p, req, payload, endpoint)
        .await
        .map(|(form, client, _)| (form, client))
}

/// [`client_form`], also returning the body as received.
async fn client_form_bytes(
    p: &Provider,
    req: &HttpRequest,
    payload: web::Payload,
    endpoint: &str,
) -> Result<(TokenForm, std::sync::Arc<Client>, bytes::Bytes), WebError> {
    if body::media_type(req) != "application/x-www-form-urlencoded" {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let bytes = body::read(payload, FORM_LIMIT, false).await?;
    let form = TokenForm::parse(&bytes)?;
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match authenticate(p, authorization, &form, endpoint).await {
        Ok(client) => Ok((form, client, bytes)),
        Err(AuthFailure { error, basic }) if basic && error.error == ErrorCode::InvalidClient => {
            Err(WebError::ClientBasic(error))
        }
        Err(AuthFailure { error, .. }) => Err(WebError::OAuth(error)),
    }
}

fn no_store_json(body: &impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body)
}

/// The request's `DPoP` header, if any; more than one is refused (RFC 9449 §4.3).
fn dpop_header(req: &HttpRequest) -> Result<Option<&str>, DpopRefusal> {
    // A value that is not visible ASCII cannot be a compact JWS: it fails as a proof.
    dpop::single_header(
        req.headers()
            .get_all("dpop")
            .map(|v| v.to_str().unwrap_or("")),
    )
}

fn token_refusal(r: DpopRefusal) -> WebError {
    WebError::DpopProof {
        error: r.error,
        nonce: r.nonce,
    }
}

/// RFC 6749 §3.2, with DPoP (RFC 9449 §5): a proof binds the tokens to its key.
pub async fn token(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let result = async {
        let proof = dpop_header(&req).map_err(token_refusal)?;
        let (form, client) = client_form(&p, &req, payload, paths::TOKEN).await?;
        let jkt = match proof {
            Some(proof) => Some(
                dpop::check(&p, proof, "POST", paths::TOKEN, None)
                    .await
                    .map_err(token_refusal)?
                    .jkt,
            ),
            // RFC 9449 §5.2: such a client's tokens are always bound.
            None if client.requires_dpop() => {
                return Err(WebError::DpopProof {
                    error: OAuthError::invalid_dpop_proof(
                        "this client must send a DPoP proof with every token request",
                    ),
                    nonce: dpop::fresh_nonce(&p),
                })
            }
            None => None,
        };
        let bound = jkt.is_some();
        let grant_type = form.grant_type.clone();
        let response = match grant_type.as_deref() {
            Some("authorization_code") => grants::exchange_code(&p, &client, &form, jkt).await?,
            Some("refresh_token") => grants::refresh(&p, &client, &form, jkt).await?,
            // RFC 6749 §4.4, for Shared Signals receivers only (scope `ssf`).
            Some("client_credentials") => {
                let r = crate::provider::ssf::token::client_credentials(&p, &client, &form)?;
                p.metrics
                    .tokens_issued
                    .with_label_values(&["client_credentials"])
                    .inc();
                return Ok(no_store_json(&r));
            }
            None => return Err(OAuthError::invalid_request("grant_type is missing").into()),
            Some(_) => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "grant_type must be authorization_code, refresh_token or client_credentials",
                )
                .into())
            }
        };
        p.metrics
            .tokens_issued
            .with_label_values(&[grant_type.as_deref().unwrap_or("")])
            .inc();
        // RFC 9449 §8.2: a fresh nonce with each answer keeps the client's nonce current.
        let nonce = bound.then(|| dpop::fresh_nonce(&p)).flatten();
        Ok(with_nonce(no_store_json(&response), &nonce))
    }
    .await;
    if let Err(
        WebError::OAuth(e) | WebError::ClientBasic(e) | WebError::DpopProof { error: e, .. },
    ) = &result
    {
        p.metrics
            .token_errors
            .with_label_values(&[e.error.as_str()])
            .inc();
    }
    result
}

/// How an access token came to a resource endpoint.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Bearer,
    /// RFC 9449 §7.1: `Authorization: DPoP <token>` with a `DPoP` proof.
    Dpop,
}

/// OIDC Core §5.3, bearer per RFC 6750 §2.1 (header) or §2.2 (form body on POST), or a
/// DPoP-bound token with its proof (RFC 9449 §7).
pub async fn userinfo(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            let token = token.trim().to_owned();
            if scheme.eq_ignore_ascii_case("bearer") {
                Some((Scheme::Bearer, token))
            } else if scheme.eq_ignore_ascii_case("dpop") {
                Some((Scheme::Dpop, token))
            } else {
                None
            }
        });
    let mut form_token = None;
    if req.method() == actix_web::http::Method::POST
        && body::media_type(&req) == "application/x-www-form-urlencoded"
    {
        let bytes = body::read(payload, FORM_LIMIT, false).await?;
        form_token = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned());
    }
    let (scheme, token) = match (header_token, form_token) {
        (Some(_), Some(_)) => {
            return Err(WebError::Bearer(OAuthError::invalid_request(
                "send the access token in one place only",
            )))
        }
        (Some(t), None) => t,
        (None, Some(t)) => (Scheme::Bearer, t),
        (None, None) => return Err(WebError::BearerMissing),
    };
    let challenge = |r: DpopRefusal| WebError::DpopChallenge {
        error: r.error,
        nonce: r.nonce,
    };
    let jkt = match scheme {
        Scheme::Bearer => None,
        Scheme::Dpop => {
            let Some(proof) = dpop_header(&req).map_err(challenge)? else {
                return Err(challenge(DpopRefusal::from(
                    OAuthError::invalid_dpop_proof("the DPoP scheme needs a DPoP proof header"),
                )));
            };
            let accepted = dpop::check(
                &p,
                proof,
                req.method().as_str(),
                paths::USERINFO,
                Some(&token),
            )
            .await
            .map_err(challenge)?;
            Some(accepted.jkt)
        }
    };
    let Some(live) = grants::live_access_token(&p, &token).await? else {
        let error = OAuthError::invalid_token("the access token is unknown, expired or revoked");
        return Err(match scheme {
            Scheme::Bearer => WebError::Bearer(error),
            Scheme::Dpop => challenge(DpopRefusal::from(error)),
        });
    };
    match (&live.row.dpop_jkt, &jkt) {
        (None, None) => {}
        // RFC 9449 §7.2: a bound token is not a bearer token.
        (Some(_), None) => {
            return Err(challenge(DpopRefusal::from(OAuthError::invalid_token(
                "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
            ))))
        }
        (None, Some(_)) => {
            return Err(challenge(DpopRefusal::from(OAuthError::invalid_token(
                "the access token is not DPoP-bound: present it as a Bearer token",
            ))))
        }
        (Some(bound), Some(proved)) if bound != proved => {
            return Err(challenge(DpopRefusal::from(
                OAuthError::invalid_dpop_proof(
                    "the DPoP proof is not made with the key the access token is bound to",
                ),
            )))
        }
        (Some(_), Some(_)) => {}
    }
    let answer = no_store_json(&grants::userinfo_claims(&p, &live).await?);
    let nonce = jkt.and_then(|_| dpop::fresh_nonce(&p));
    Ok(with_nonce(answer, &nonce))
}

/// RFC 7009.
pub async fn revoke(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (form, client) = client_form(&p, &req, payload, paths::REVOKE).await?;
    grants::revoke(&p, &client, &form).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
}

/// RFC 7662.
pub async fn introspect(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (form, client) = client_form(&p, &req, payload, paths::INTROSPECT).await?;
    let answer = grants::introspect(&p, &client, &form).await?;
    Ok(no_store_json(&answer))
}

/// RFC 9126 §2: the client pushes its authorization request and gets a `request_uri` for
/// `/authorize`; errors are JSON (§2.3).
pub async fn par(
    p: web::Data<Provider>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (_, client, bytes) = client_form_bytes(&p, &req, payload, paths::PAR).await?;
    let pairs = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let pushed = crate::provider::flow::pushed::push(&p, &client, pairs).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(pushed))
}
