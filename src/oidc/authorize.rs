//! Authorization request validation (OIDC Core §3.1.2.1–§3.1.2.2, RFC 6749 §4.1.1, RFC 7636).

use super::error::{ErrorCode, OAuthError};
use super::pkce;
use super::verified_claims::FACT_SCOPES;
use crate::domain::{Client, RedirectUri, Scope};

/// The raw query parameters of `/authorize`; duplicates already detected by the caller.
#[derive(Debug, Default, Clone)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub registration: Option<String>,
    /// Names of parameters that appeared more than once (RFC 6749 §3.1).
    pub duplicated: Vec<String>,
}

impl AuthorizeParams {
    /// The parameters of a query or form, in order; a repeated name keeps its first value and
    /// is listed in `duplicated` (RFC 6749 §3.1: parameters must not be included more than
    /// once). Unknown names are ignored (RFC 6749 §3.1).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> AuthorizeParams {
        let mut p = AuthorizeParams::default();
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in pairs {
            if seen.contains(&key) {
                if !p.duplicated.contains(&key) {
                    p.duplicated.push(key.clone());
                }
                continue;
            }
            seen.push(key.clone());
            let v = Some(value);
            match key.as_str() {
                "client_id" => p.client_id = v,
                "redirect_uri" => p.redirect_uri = v,
                "response_type" => p.response_type = v,
                "response_mode" => p.response_mode = v,
                "scope" => p.scope = v,
                "state" => p.state = v,
                "nonce" => p.nonce = v,
                "code_challenge" => p.code_challenge = v,
                "code_challenge_method" => p.code_challenge_method = v,
                "prompt" => p.prompt = v,
                "max_age" => p.max_age = v,
                "ui_locales" => p.ui_locales = v,
                "acr_values" => p.acr_values = v,
                "claims" => p.claims = v,
                "request" => p.request = v,
                "request_uri" => p.request_uri = v,
                "registration" => p.registration = v,
                _ => {}
            }
        }
        p
    }
}

/// `prompt` (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

impl Prompt {
    pub fn parse(value: Option<&str>) -> Result<Prompt, &'static str> {
        let mut p = Prompt::default();
        for v in value.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                // One card is one account: there is nothing to select.
                "select_account" => {}
                _ => return Err("unknown prompt value"),
            }
        }
        if p.none && (p.login || p.consent) {
            return Err("prompt=none cannot be combined with other values");
        }
        Ok(p)
    }

    pub fn to_param(self) -> Option<String> {
        let mut parts = Vec::new();
        if self.none {
            parts.push("none");
        }
        if self.login {
            parts.push("login");
        }
        if self.consent {
            parts.push("consent");
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// A request that passed every check and can start a login.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub redirect_uri: RedirectUri,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<serde_json::Value>,
}

/// Where an error goes: a page for the user when the client or redirect URI is not known to be
/// good, otherwise back to the client (OIDC Core §3.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    Page(OAuthError),
    Redirect {
        redirect_uri: RedirectUri,
        state: Option<String>,
        error: OAuthError,
    },
}

const MAX_PARAM_LEN: usize = 4096;

/// How the parameters reached the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// In the browser's request to `/authorize`; `par_required`: the operator requires pushed
    /// requests of every client (RFC 9126 §5 `require_pushed_authorization_requests`).
    Front { par_required: bool },
    /// Pushed by the authenticated client to `/par`, or read back at `/authorize` through the
    /// `request_uri` it was given (RFC 9126 §2, §4).
    Pushed,
}

/// The parameters that are the client's authentication, never authorization parameters: a
/// pushed request is stored without them (RFC 9126 §2.1).
pub const CLIENT_AUTH_PARAMS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// Checks an authorization request against the registered client.
pub fn validate(
    params: &AuthorizeParams,
    client: Option<&Client>,
    channel: Channel,
) -> Result<AuthorizeRequest, AuthorizeError> {
    let page = |d: &str| AuthorizeError::Page(OAuthError::invalid_request(d));
    if params
        .duplicated
        .iter()
        .any(|p| p == "client_id" || p == "redirect_uri")
    {
        return Err(page("client_id and redirect_uri must appear once"));
    }
    if params.client_id.is_none() {
        return Err(page("client_id is missing"));
    }
    let client = match client {
        Some(c) if c.enabled => c,
        Some(_) => return Err(page("this client is disabled")),
        None => return Err(page("unknown client_id")),
    };
    let Some(redirect) = params.redirect_uri.as_deref() else {
        return Err(page("redirect_uri is missing"));
    };
    let Some(redirect_uri) = client.redirect_uri(redirect).cloned() else {
        return Err(page("redirect_uri is not registered for this client"));
    };
    // RFC 9126 §5, §6; FAPI 2.0 Security Profile §5.3.2.2 item 2. Shown to the person: the
    // parameters of an unpushed request are not the client's word.
    if let Channel::Front { par_required } = channel {
        if par_required || client.requires_pushed_requests() {
            return Err(page(
                "this client must push its authorization requests to the PAR endpoint (RFC 9126)",
            ));
        }
    }
    // From here on the client can be told.
    let state = params.state.clone();
    let fail = |code: ErrorCode, d: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone().filter(|s| s.len() <= MAX_PARAM_LEN),
        error: OAuthError::new(code, d),
    };
    let invalid = |d: &str| fail(ErrorCode::InvalidRequest, d);
    if let Some(name) = params.duplicated.first() {
        return Err(invalid(&format!("parameter {name} appears more than once")));
    }
    let too_long = [
        &params.state,
        &params.nonce,
        &params.scope,
        &params.claims,
        &params.ui_locales,
        &params.acr_values,
    ]
    .iter()
    .any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_LEN));
    if too_long {
        return Err(invalid("a parameter is too long"));
    }
    if params.request.is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    // A request_uri of this provider was resolved before validation (RFC 9126 §4); none may be
    // pushed (§2.1).
    if params.request_uri.is_some() {
        return Err(invalid("request_uri cannot be used here"));
    }
    if params.registration.is_some() {
        return Err(fail(
            ErrorCode::RegistrationNotSupported,
            "the registration parameter is not supported",
        ));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(invalid("response_type is missing")),
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    match params.response_mode.as_deref() {
        None | Some("query") => {}
        Some(_) => return Err(invalid("only response_mode=query is supported")),
    }
    let scope = params
        .scope
        .as_deref()
        .and_then(Scope::parse)
        .ok_or_else(|| fail(ErrorCode::InvalidScope, "scope is missing or malformed"))?;
    if !scope.contains("openid") {
        return Err(fail(ErrorCode::InvalidScope, "scope must include openid"));
    }
    // The fact scopes are allowed by the client's identity-verification setting alone.
    let allowed = |s: &str| {
        client.scopes.contains(s) || (client.allow_verified_claims && FACT_SCOPES.contains(&s))
    };
    let extra: Vec<&str> = scope.iter().filter(|s| !allowed(s)).collect();
    if !extra.is_empty() {
        return Err(fail(
            ErrorCode::InvalidScope,
            &format!("this client may not request: {}", extra.join(" ")),
        ));
    }
    let challenge = params
        .code_challenge
        .as_deref()
        .ok_or_else(|| invalid("code_challenge is required (PKCE S256)"))?;
    let code_challenge = pkce::parse_challenge(challenge, params.code_challenge_method.as_deref())
        .map_err(invalid)?;
    let prompt = Prompt::parse(params.prompt.as_deref()).map_err(invalid)?;
    let max_age = match params.max_age.as_deref() {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative integer"))?,
        ),
    };
    let claims = match params.claims.as_deref() {
        None => None,
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v @ serde_json::Value::Object(_)) => Some(v),
            _ => return Err(invalid("claims must be a JSON object")),
        },
    };
    Ok(AuthorizeRequest {
        redirect_uri,
        scope,
        state,
        nonce: params.nonce.clone(),
        code_challenge,
        prompt,
        max_age,
        ui_locales: params.ui_locales.clone(),
        acr_values: params.acr_values.clone(),
        claims,
    })
}

/// Whether an existing login is recent enough for `max_age` (OIDC Core §3.1.2.1).
pub fn login_is_fresh(auth_time: i64, max_age: Option<i64>, now: i64) -> bool {
    match max_age {
        None => true,
        Some(max) => now - auth_time <= max,
    }
}
