//! The demo site: a real OpenID Connect client (the `openidconnect` crate) on the provider's
//! own server, showing the verified ID token and userinfo after a card login, and ending its
//! own session when the provider sends a back-channel logout token for its `sid`.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl,
    TokenResponse,
};
use serde::Deserialize;

use crate::domain::secret::random_b64;
use crate::web::assets::{assets, Assets};

const STATE_COOKIE: &str = "demo_rp_login";
const SESSION_COOKIE: &str = "demo_rp_session";

/// Why the demo site could not complete a step; shown on its page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error("HTTP client: {0}")]
    Http(String),
    #[error("discovery failed: {0}")]
    Discovery(String),
    #[error("token request failed: {0}")]
    Token(String),
    #[error("ID token refused: {0}")]
    IdToken(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
    #[error("logout token refused: {0}")]
    LogoutToken(&'static str),
}
/// The demo site's registration and what it remembers between requests.
pub struct DemoRp {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    http: openidconnect::reqwest::Client,
    pending: Mutex<HashMap<String, (String, String)>>,
    pub(super) sessions: Mutex<HashMap<String, LoggedIn>>,
}

#[derive(Clone)]
pub(super) struct LoggedIn {
    /// The provider's session at this site (the ID token's `sid`), which back-channel logout
    /// names.
    pub(super) sid: Option<String>,
    id_token: String,
    claims_json: String,
    userinfo_json: String,
}

#[derive(Template)]
#[template(path = "demo.html")]
struct DemoPage<'a> {
    assets: &'static Assets,
    logged_in: Option<&'a LoggedIn>,
    error: Option<String>,
}

impl DemoRp {
    pub fn new(
        issuer: String,
        client_id: String,
        client_secret: String,
    ) -> Result<DemoRp, DemoError> {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| DemoError::Http(e.to_string()))?;
        Ok(DemoRp {
            issuer,
            client_id,
            client_secret,
            http,
            pending: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
        })
    }

    fn redirect_uri(&self) -> String {
        format!("{}/demo/callback", self.issuer)
    }

    /// Where the provider sends logout tokens for this site.
    pub fn backchannel_logout_uri(issuer: &str) -> String {
        format!("{issuer}/demo/backchannel")
    }

    pub(super) async fn metadata(&self) -> Result<CoreProviderMetadata, DemoError> {
        let issuer =
            IssuerUrl::new(self.issuer.clone()).map_err(|e| DemoError::Discovery(e.to_string()))?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| DemoError::Discovery(e.to_string()))
    }

    pub fn configure(data: web::Data<DemoRp>) -> impl Fn(&mut web::ServiceConfig) + Send + Sync {
        move |cfg| {
            cfg.app_data(data.clone())
                .route("/demo/", web::get().to(home))
                .route("/demo/login", web::get().to(login))
                .route("/demo/callback", web::get().to(callback))
                .route("/demo/logout", web::get().to(logout))
                .route(
                    "/demo/backchannel",
                    web::post().to(super::backchannel::receive),
                );
        }
    }
}

fn page(rp: &DemoRp, req: &HttpRequest, error: Option<String>) -> HttpResponse {
    let sessions = rp.sessions.lock().unwrap_or_else(|p| p.into_inner());
    let logged_in = req
        .cookie(SESSION_COOKIE)
        .and_then(|c| sessions.get(c.value()));
    let html = DemoPage {
        assets: assets(),
        logged_in,
        error,
    }
    .render()
    .unwrap_or_default();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html)
}

async fn home(rp: web::Data<DemoRp>, req: HttpRequest) -> HttpResponse {
    page(&rp, &req, None)
}

fn found(location: &str) -> actix_web::HttpResponseBuilder {
    let mut b = HttpResponse::Found();
    b.insert_header((header::LOCATION, location.to_owned()));
    b
}

async fn login(rp: web::Data<DemoRp>, req: HttpRequest) -> HttpResponse {
    let metadata = match rp.metadata().await {
        Ok(m) => m,
        Err(e) => return page(&rp, &req, Some(e.to_string())),
    };
    let Ok(redirect) = RedirectUrl::new(rp.redirect_uri()) else {
        return page(&rp, &req, Some("bad redirect URI".into()));
    };
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.client_id.clone()),
        Some(ClientSecret::new(rp.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    rp.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(
        state.secret().clone(),
        (verifier.secret().clone(), nonce.secret().clone()),
    );
    found(url.as_str())
        .cookie(
            actix_web::cookie::Cookie::build(STATE_COOKIE, state.secret().clone())
                .path("/demo/")
                .http_only(true)
                .same_site(actix_web::cookie::SameSite::Lax)
                .finish(),
        )
        .finish()
}

#[derive(Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    rp: web::Data<DemoRp>,
    req: HttpRequest,
    q: web::Query<Callback>,
) -> HttpResponse {
    if let Some(error) = &q.error {
        let d = q.error_description.clone().unwrap_or_default();
        return page(&rp, &req, Some(format!("{error}: {d}")));
    }
    let state_cookie = req.cookie(STATE_COOKIE).map(|c| c.value().to_owned());
    let (Some(code), Some(state)) = (&q.code, &q.state) else {
        return page(&rp, &req, Some("the callback has no code or state".into()));
    };
    if state_cookie.as_deref() != Some(state.as_str()) {
        return page(&rp, &req, Some("state does not match this browser".into()));
    }
    let pending = rp
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(state);
    let Some((verifier, nonce)) = pending else {
        return page(&rp, &req, Some("unknown state".into()));
    };
    match finish(&rp, code, verifier, nonce).await {
        Ok(logged_in) => {
            let id = random_b64(16);
            rp.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.clone(), logged_in);
            found("/demo/")
                .cookie(
                    actix_web::cookie::Cookie::build(SESSION_COOKIE, id)
                        .path("/demo/")
                        .http_only(true)
                        .same_site(actix_web::cookie::SameSite::Lax)
                        .finish(),
                )
                .finish()
        }
        Err(e) => page(&rp, &req, Some(e.to_string())),
    }
}

/// The code exchange and checks every OIDC client library performs.
async fn finish(
    rp: &DemoRp,
    code: &str,
    verifier: String,
    nonce: String,
) -> Result<LoggedIn, DemoError> {
    let metadata = rp.metadata().await?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(rp.client_id.clone()),
        Some(ClientSecret::new(rp.client_secret.clone())),
    )
    .set_redirect_uri(
        RedirectUrl::new(rp.redirect_uri()).map_err(|e| DemoError::Token(e.to_string()))?,
    );
    let token = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| DemoError::Token(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&rp.http)
        .await
        .map_err(|e| DemoError::Token(e.to_string()))?;
    let id_token = token
        .id_token()
        .ok_or(DemoError::Token("no ID token".into()))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce))
        .map_err(|e| DemoError::IdToken(e.to_string()))?;
    let refused = |e: &dyn std::fmt::Display| DemoError::IdToken(e.to_string());
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| refused(&e))?;
        let key = id_token.signing_key(&verifier).map_err(|e| refused(&e))?;
        let actual =
            AccessTokenHash::from_token(token.access_token(), alg, key).map_err(|e| refused(&e))?;
        if actual != *expected {
            return Err(DemoError::IdToken(
                "at_hash does not match the access token".into(),
            ));
        }
    }
    let userinfo: CoreUserInfoClaims = client
        .user_info(token.access_token().to_owned(), None)
        .map_err(|e| DemoError::UserInfo(e.to_string()))?
        .request_async(&rp.http)
        .await
        .map_err(|e| DemoError::UserInfo(e.to_string()))?;
    // The library's standard claims leave out `sid` (OIDC Front- and Back-Channel Logout);
    // it is read from the token just verified and shown with them.
    let id_token = id_token.to_string();
    let sid =
        payload(&id_token).and_then(|p| p.get("sid").and_then(|s| s.as_str()).map(str::to_owned));
    let mut shown = serde_json::to_value(claims).unwrap_or_default();
    if let (Some(map), Some(sid)) = (shown.as_object_mut(), &sid) {
        map.insert("sid".to_owned(), serde_json::json!(sid));
    }
    Ok(LoggedIn {
        sid,
        id_token,
        claims_json: serde_json::to_string_pretty(&shown).unwrap_or_default(),
        userinfo_json: serde_json::to_string_pretty(&userinfo).unwrap_or_default(),
    })
}

/// The JSON payload of a compact JWS (not verified here).
pub(super) fn payload(jws: &str) -> Option<serde_json::Value> {
    let part = jws.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

async fn logout(rp: web::Data<DemoRp>, req: HttpRequest) -> HttpResponse {
    let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned());
    let removed = session.and_then(|id| {
        rp.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
    });
    let back = format!("{}/demo/", rp.issuer);
    let target = match (removed, PostLogoutRedirectUrl::new(back.clone())) {
        (Some(s), Ok(_)) => {
            let mut url =
                url::Url::parse(&format!("{}/end_session", rp.issuer)).unwrap_or_else(|_| {
                    url::Url::parse("http://invalid/").unwrap_or_else(|e| panic!("{e}"))
                });
            url.query_pairs_mut()
                .append_pair("id_token_hint", &s.id_token)
                .append_pair("post_logout_redirect_uri", &back)
                .append_pair("state", &random_b64(8));
            url.to_string()
        }
        _ => back,
    };
    found(&target).finish()
}
