//! The demo site's back-channel logout endpoint (OIDC Back-Channel Logout 1.0): the provider
//! tells it which of its sessions (`sid`) ended, and the demo ends its own.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::JsonWebKey as _;
use serde::Deserialize;

use super::rp::{payload, DemoError, DemoRp};

/// The event a logout token carries (Back-Channel Logout 1.0 §2.4).
const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(Deserialize)]
pub struct LogoutForm {
    logout_token: String,
}

/// `POST /demo/backchannel`: Back-Channel Logout 1.0 §2.5. The token is validated as §2.6
/// asks (signature with the provider's published keys, `iss`, `aud`, the logout event, no
/// `nonce`), then the site's sessions with that `sid` end.
pub async fn receive(rp: web::Data<DemoRp>, form: web::Form<LogoutForm>) -> HttpResponse {
    match validate_logout_token(&rp, &form.logout_token).await {
        Ok(sid) => {
            rp.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|_, s| s.sid.as_deref() != Some(sid.as_str()));
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(e) => HttpResponse::BadRequest()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(serde_json::json!({ "error": "invalid_request", "error_description": e.to_string() })),
    }
}

/// The `sid` of a valid logout token for this site.
async fn validate_logout_token(rp: &DemoRp, token: &str) -> Result<String, DemoError> {
    let refused = DemoError::LogoutToken;
    let parts: Vec<&str> = token.split('.').collect();
    let [head, body, signature] = parts[..] else {
        return Err(refused("not a compact JWS"));
    };
    let header = payload(&format!("x.{head}")).ok_or(refused("bad header"))?;
    let alg = match header["alg"].as_str() {
        Some("RS256") => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some("PS256") => CoreJwsSigningAlgorithm::RsaSsaPssSha256,
        Some("ES256") => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        _ => return Err(refused("unexpected alg")),
    };
    let metadata = rp.metadata().await?;
    let key = metadata
        .jwks()
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == header["kid"].as_str())
        .ok_or(refused("unknown kid"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| refused("bad signature encoding"))?;
    key.verify_signature(&alg, format!("{head}.{body}").as_bytes(), &signature)
        .map_err(|_| refused("the signature does not verify"))?;
    let claims = payload(token).ok_or(refused("bad claims"))?;
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => *a == rp.client_id,
        serde_json::Value::Array(a) => a.iter().any(|v| *v == rp.client_id.as_str()),
        _ => false,
    };
    if claims["iss"] != rp.issuer.as_str() || !aud_ok {
        return Err(refused("not for this site"));
    }
    if !claims["events"][BACKCHANNEL_LOGOUT_EVENT].is_object() || claims.get("nonce").is_some() {
        return Err(refused("not a logout token"));
    }
    claims["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or(refused("no sid"))
}
