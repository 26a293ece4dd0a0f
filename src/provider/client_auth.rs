//! Client authentication at the token, revocation, introspection and PAR endpoints
//! (RFC 6749 §2.3, OIDC Core §9, RFC 7523, RFC 9126 §2).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::Provider;
use crate::domain::secret::constant_time_eq;
use crate::domain::{AuthMethod, Client};
use crate::jose::{self, Alg, AssertionRules, Jwks, VerifyingKey};
use crate::oidc::discovery::paths;
use crate::oidc::token::{credentials, Credentials, TokenForm};
use crate::oidc::OAuthError;
use crate::store;

/// Outcome of a failed authentication: the error and whether Basic was tried (for the
/// `WWW-Authenticate` header of the 401, RFC 6749 §5.2).
#[derive(Debug)]
pub struct AuthFailure {
    pub error: OAuthError,
    pub basic: bool,
}

impl From<OAuthError> for AuthFailure {
    fn from(error: OAuthError) -> AuthFailure {
        AuthFailure {
            error,
            basic: false,
        }
    }
}

/// Authenticates the calling client at the endpoint of relative path `endpoint`. A client
/// assertion's `aud` may be the issuer identifier (RFC 7523 §3; FAPI 2.0 Security Profile
/// §5.3.2.1 item 8 and RFC 9126 §2 require it to be accepted) or the token endpoint URL (OIDC
/// Core §9), and at another endpoint also that endpoint's URL.
pub async fn authenticate(
    p: &Provider,
    authorization: Option<&str>,
    form: &TokenForm,
    endpoint: &str,
) -> Result<Arc<Client>, AuthFailure> {
    let creds = credentials(authorization, form)?;
    let basic = matches!(creds, Credentials::Basic { .. });
    let fail = |d: &str| AuthFailure {
        error: OAuthError::invalid_client(d),
        basic,
    };
    match creds {
        Credentials::Basic { client_id, secret } | Credentials::Post { client_id, secret } => {
            let client = known_client(p, &client_id)
                .await
                .map_err(|e| AuthFailure { error: e, basic })?;
            let used = if basic {
                AuthMethod::ClientSecretBasic
            } else {
                AuthMethod::ClientSecretPost
            };
            if client.auth_method != used {
                return Err(fail(&format!(
                    "this client authenticates with {}",
                    client.auth_method.as_str()
                )));
            }
            let ok = client
                .secret_hash
                .as_deref()
                .is_some_and(|h| constant_time_eq(h.as_bytes(), secret.hash().as_bytes()));
            if !ok {
                return Err(fail("client authentication failed"));
            }
            Ok(client)
        }
        Credentials::Jwt {
            client_id,
            assertion,
        } => {
            let token = assertion.expose();
            let issuer = unverified_issuer(token)
                .ok_or_else(|| fail("the client assertion is not a readable JWT"))?;
            if client_id.as_deref().is_some_and(|id| id != issuer) {
                return Err(fail("client_id differs from the assertion issuer"));
            }
            let client = known_client(p, &issuer).await?;
            if client.auth_method != AuthMethod::PrivateKeyJwt {
                return Err(fail(&format!(
                    "this client authenticates with {}",
                    client.auth_method.as_str()
                )));
            }
            let keys = client_keys(p, &client, false).await?;
            let allowed = [Alg::RS256, Alg::PS256, Alg::ES256];
            let verified = match jose::verify(token, &keys, &allowed) {
                Ok(v) => v,
                // The client may have rotated its keys: fetch once more before refusing.
                Err(_) if client.jwks_uri.is_some() => {
                    let keys = client_keys(p, &client, true).await?;
                    jose::verify(token, &keys, &allowed)
                        .map_err(|e| fail(&format!("client assertion refused: {e}")))?
                }
                Err(e) => return Err(fail(&format!("client assertion refused: {e}"))),
            };
            let now = p.clock.now();
            let token_endpoint = p.url(paths::TOKEN);
            let here = p.url(endpoint);
            let mut rules = AssertionRules::new(
                client.id.as_str(),
                p.settings.issuer_str(),
                &token_endpoint,
                now,
            );
            rules.endpoint = Some(&here);
            let accepted = rules
                .check(&verified)
                .map_err(|e| fail(&format!("client assertion refused: {e}")))?;
            let (cid, jti, exp) = (
                client.id.as_str().to_owned(),
                accepted.jti.clone(),
                accepted.exp.unix_timestamp(),
            );
            let now = now.unix_timestamp();
            let fresh =
                p.db.write(move |c| store::keys::remember_jti(c, &cid, &jti, exp, now))
                    .await
                    .map_err(|_| AuthFailure::from(OAuthError::unavailable()))?;
            if !fresh {
                return Err(fail("client assertion replayed (jti already used)"));
            }
            Ok(client)
        }
    }
}

async fn known_client(p: &Provider, id: &str) -> Result<Arc<Client>, OAuthError> {
    match p.clients.get(id).await {
        Ok(Some(c)) if c.enabled => Ok(c),
        Ok(_) => Err(OAuthError::invalid_client("client authentication failed")),
        Err(_) => Err(OAuthError::unavailable()),
    }
}

/// `iss` of a JWT before verification, only to find whose keys to verify it with.
fn unverified_issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

/// A client's verification keys: its registered JWKS, or its jwks_uri (cached 5 minutes).
async fn client_keys(
    p: &Provider,
    client: &Client,
    refetch: bool,
) -> Result<Vec<VerifyingKey>, OAuthError> {
    let doc = match (&client.jwks, &client.jwks_uri) {
        (Some(doc), _) => doc.clone(),
        (None, Some(uri)) => p.jwks_cache.fetch(&p.http, uri, refetch).await?,
        (None, None) => return Err(OAuthError::invalid_client("the client has no keys")),
    };
    Jwks::parse_public(&doc)
        .and_then(|jwks| jwks.verifying_keys())
        .map_err(|e| OAuthError::invalid_client(format!("the client's JWKS is not usable: {e}")))
}

/// Clients' fetched JWKS documents by URI.
#[derive(Default)]
pub struct JwksCache {
    docs: RwLock<HashMap<String, (Instant, String)>>,
}

const JWKS_TTL: Duration = Duration::from_secs(300);

impl JwksCache {
    async fn fetch(
        &self,
        http: &reqwest::Client,
        uri: &str,
        refetch: bool,
    ) -> Result<String, OAuthError> {
        if !refetch {
            if let Ok(docs) = self.docs.read() {
                if let Some((at, doc)) = docs.get(uri) {
                    if at.elapsed() < JWKS_TTL {
                        return Ok(doc.clone());
                    }
                }
            }
        }
        let unreachable = |e: String| {
            tracing::warn!(jwks_uri = uri, error = %e, "cannot fetch a client's jwks_uri");
            OAuthError::invalid_client("the client's jwks_uri cannot be fetched")
        };
        let response = http
            .get(uri)
            .send()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unreachable(response.status().to_string()));
        }
        let doc = response
            .text()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if doc.len() > 64 * 1024 {
            return Err(unreachable("document over 64 KiB".into()));
        }
        if let Ok(mut docs) = self.docs.write() {
            docs.insert(uri.to_owned(), (Instant::now(), doc.clone()));
        }
        Ok(doc)
    }
}
