//! Client registration rules and the in-memory client cache used on every token request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::domain::{
    AuthMethod, Client, ClientId, IdTokenAlg, Profile, RedirectUri, Scope, Secret,
};
use crate::oidc::pairwise;
use crate::store::outbox::{OutboxRow, BACKCHANNEL_LOGOUT};
use crate::store::{self, Db, StoreError};

/// How long a node trusts its cached copy of a client changed on another node.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// A cached look-up: when it was made and what it found (unknown ids are cached too).
type CacheEntry = (Instant, Option<Arc<Client>>);

pub struct ClientCache {
    db: Db,
    entries: RwLock<HashMap<String, CacheEntry>>,
}

impl ClientCache {
    pub fn new(db: Db) -> ClientCache {
        ClientCache {
            db,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The client, from cache when fresh. Unknown ids are cached too (briefly), so a flood of
    /// bogus ids costs one query each per TTL.
    pub async fn get(&self, id: &str) -> Result<Option<Arc<Client>>, StoreError> {
        if let Ok(entries) = self.entries.read() {
            if let Some((at, client)) = entries.get(id) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(client.clone());
                }
            }
        }
        let owned = id.to_owned();
        let row = self
            .db
            .read(move |c| store::clients::get(c, &owned))
            .await?;
        let client = match row {
            Some(row) => match row.into_client() {
                Ok(c) => Some(Arc::new(c)),
                Err(e) => {
                    tracing::error!(client_id = id, error = %e, "stored client does not parse");
                    None
                }
            },
            None => None,
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            entries.insert(id.to_owned(), (Instant::now(), client.clone()));
        }
        Ok(client)
    }

    /// Drops a client after a change made through this node.
    pub fn invalidate(&self, id: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }
}

/// What an operator gives to register or update a client (CLI, console, admin API).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default)]
    pub backchannel_logout_session_required: Option<bool>,
    #[serde(default)]
    pub sector_identifier_uri: Option<String>,
    #[serde(default)]
    pub auth_method: Option<String>,
    #[serde(default)]
    pub jwks: Option<String>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    #[serde(default)]
    pub scopes: Option<String>,
    #[serde(default)]
    pub id_token_alg: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    #[serde(default)]
    pub tos_uri: Option<String>,
    #[serde(default)]
    pub policy_uri: Option<String>,
    #[serde(default)]
    pub allow_verified_claims: Option<bool>,
    /// RFC 8935 endpoint for Security Event Tokens when verified facts change.
    #[serde(default)]
    pub security_event_uri: Option<String>,
    /// RFC 9126 §6: `/authorize` accepts only pushed requests from this client.
    #[serde(default)]
    pub require_pushed_authorization_requests: Option<bool>,
    /// "oidc" (default) or "fapi2" (FAPI 2.0 Security Profile).
    #[serde(default)]
    pub profile: Option<String>,
    /// RFC 9449 §5.2: token requests without a DPoP proof are refused.
    #[serde(default)]
    pub dpop_bound_access_tokens: Option<bool>,
    /// May use the client credentials grant (scope `ssf`) to manage a Shared Signals stream.
    #[serde(default)]
    pub allow_shared_signals: Option<bool>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A field-level validation problem, so forms can show it next to the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Scopes a client may request when the operator says nothing.
pub const DEFAULT_SCOPES: &str = "openid";

/// Validates a spec into a client (without the sector document check, which needs the
/// network: see [`fetch_sector_document`]).
pub fn build_client(
    id: ClientId,
    spec: &ClientSpec,
    secret_hash: Option<String>,
) -> Result<Client, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });
    let name = spec.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        err("name", "a name of 1–200 characters is required".into());
    }
    let mut uris = |field: &'static str, list: &[String]| -> Vec<RedirectUri> {
        list.iter()
            .filter(|u| !u.trim().is_empty())
            .filter_map(|u| match RedirectUri::parse(u.trim()) {
                Ok(uri) => Some(uri),
                Err(e) => {
                    err(field, format!("{u}: {e}"));
                    None
                }
            })
            .collect()
    };
    let redirect_uris = uris("redirect_uris", &spec.redirect_uris);
    let post_logout_redirect_uris =
        uris("post_logout_redirect_uris", &spec.post_logout_redirect_uris);
    if redirect_uris.is_empty() && !spec.redirect_uris.iter().any(|u| !u.trim().is_empty()) {
        err(
            "redirect_uris",
            "at least one redirect URI is required".into(),
        );
    }
    let profile = match Profile::parse(spec.profile.as_deref().unwrap_or("oidc")) {
        Some(p) => p,
        None => {
            err("profile", "oidc or fapi2".into());
            Profile::Oidc
        }
    };
    let fapi2 = profile == Profile::Fapi2;
    let default_method = if fapi2 {
        "private_key_jwt"
    } else {
        "client_secret_basic"
    };
    let method = spec.auth_method.as_deref().unwrap_or(default_method);
    let auth_method = AuthMethod::parse(method).unwrap_or_else(|| {
        err("auth_method", format!("unknown method {method}"));
        AuthMethod::ClientSecretBasic
    });
    // FAPI 2.0 Security Profile §5.3.2.1 item 4: private_key_jwt (or mTLS), never a secret.
    if fapi2 && auth_method.uses_secret() {
        err(
            "auth_method",
            "the fapi2 profile needs private_key_jwt: client secrets are not allowed".into(),
        );
    }
    let jwks = clean(&spec.jwks);
    let jwks_uri = clean(&spec.jwks_uri);
    if auth_method == AuthMethod::PrivateKeyJwt {
        match (&jwks, &jwks_uri) {
            (None, None) => err("jwks", "private_key_jwt needs a JWKS or a jwks_uri".into()),
            (Some(_), Some(_)) => err("jwks", "give either a JWKS or a jwks_uri, not both".into()),
            (Some(doc), None) => {
                if let Err(e) = crate::jose::Jwks::parse_public(doc) {
                    err("jwks", format!("not a usable public JWKS: {e}"));
                }
            }
            (None, Some(uri)) => {
                if !is_https_or_loopback(uri) {
                    err("jwks_uri", "must be an https URL".into());
                }
            }
        }
    }
    let backchannel_logout_uri = clean(&spec.backchannel_logout_uri);
    if let Some(uri) = &backchannel_logout_uri {
        // Back-Channel Logout §2.2: absolute, no fragment; https except for local testing.
        if !is_https_or_loopback(uri) || uri.contains('#') {
            err(
                "backchannel_logout_uri",
                "must be an https URL without fragment".into(),
            );
        }
    }
    let security_event_uri = clean(&spec.security_event_uri);
    if let Some(uri) = &security_event_uri {
        if !is_https_or_loopback(uri) || uri.contains('#') {
            err(
                "security_event_uri",
                "must be an https URL without fragment".into(),
            );
        }
    }
    let sector_identifier_uri = clean(&spec.sector_identifier_uri);
    let sector = match &sector_identifier_uri {
        Some(uri) => match url::Url::parse(uri) {
            Ok(u) if u.scheme() == "https" || crate::domain::redirect_uri::is_loopback(&u) => {
                u.host_str().unwrap_or_default().to_owned()
            }
            _ => {
                err("sector_identifier_uri", "must be an https URL".into());
                String::new()
            }
        },
        None => match pairwise::sector_of_redirect_uris(&redirect_uris) {
            Ok(s) => s,
            Err(e) => {
                if !redirect_uris.is_empty() {
                    err("redirect_uris", e.to_string());
                }
                String::new()
            }
        },
    };
    let scopes = match Scope::parse(spec.scopes.as_deref().unwrap_or(DEFAULT_SCOPES)) {
        Some(s) if s.contains("openid") => s,
        _ => {
            err("scopes", "space-separated scopes including openid".into());
            Scope::default()
        }
    };
    let default_alg = if fapi2 { "PS256" } else { "RS256" };
    let id_token_alg = match IdTokenAlg::parse(spec.id_token_alg.as_deref().unwrap_or(default_alg))
    {
        Some(a) => a,
        None => {
            err("id_token_alg", "RS256, PS256 or ES256".into());
            IdTokenAlg::Rs256
        }
    };
    // FAPI 2.0 Security Profile §5.4.1: PS256 or ES256 (EdDSA is not offered here).
    if fapi2 && id_token_alg == IdTokenAlg::Rs256 {
        err(
            "id_token_alg",
            "the fapi2 profile signs ID tokens with PS256 or ES256, not RS256".into(),
        );
    }
    for (field, value) in [
        ("logo_uri", &spec.logo_uri),
        ("tos_uri", &spec.tos_uri),
        ("policy_uri", &spec.policy_uri),
    ] {
        if let Some(v) = clean(value) {
            if !is_https_or_loopback(&v) {
                err(field, "must be an https URL".into());
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Client {
        id,
        name,
        secret_hash: if auth_method.uses_secret() {
            secret_hash
        } else {
            None
        },
        auth_method,
        redirect_uris,
        post_logout_redirect_uris,
        backchannel_logout_uri,
        backchannel_logout_session_required: spec
            .backchannel_logout_session_required
            .unwrap_or(true),
        sector_identifier_uri,
        sector,
        jwks,
        jwks_uri,
        scopes,
        id_token_alg,
        logo_uri: clean(&spec.logo_uri),
        tos_uri: clean(&spec.tos_uri),
        policy_uri: clean(&spec.policy_uri),
        allow_verified_claims: spec.allow_verified_claims.unwrap_or(false),
        security_event_uri,
        require_pushed_authorization_requests: spec
            .require_pushed_authorization_requests
            .unwrap_or(false),
        profile,
        dpop_bound_access_tokens: spec.dpop_bound_access_tokens.unwrap_or(false),
        allow_shared_signals: spec.allow_shared_signals.unwrap_or(false),
        enabled: spec.enabled.unwrap_or(true),
    })
}

fn clean(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

pub(crate) fn is_https_or_loopback(uri: &str) -> bool {
    match url::Url::parse(uri) {
        Ok(u) => {
            u.scheme() == "https"
                || (u.scheme() == "http" && crate::domain::redirect_uri::is_loopback(&u))
        }
        Err(_) => false,
    }
}

/// OIDC Core §8.1: the sector identifier document must list every redirect URI.
pub async fn fetch_sector_document(
    http: &reqwest::Client,
    client: &Client,
) -> Result<(), FieldError> {
    let Some(uri) = &client.sector_identifier_uri else {
        return Ok(());
    };
    let field = "sector_identifier_uri";
    let fail = |message: String| FieldError { field, message };
    let response = http
        .get(uri)
        .send()
        .await
        .map_err(|e| fail(format!("cannot fetch {uri}: {e}")))?;
    if !response.status().is_success() {
        return Err(fail(format!("{uri} answered {}", response.status())));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| fail(format!("cannot read {uri}: {e}")))?;
    pairwise::check_sector_document(&body, &client.redirect_uris).map_err(|e| fail(e.to_string()))
}

/// A new client secret and its stored hash.
pub fn new_secret() -> (Secret, String) {
    let secret = Secret::generate(32);
    let hash = secret.hash();
    (secret, hash)
}

/// Removes a client with everything it holds: consents, codes, tokens, transactions and client
/// sessions, and records `event` (the operator's audit entry) in the same transaction. Each
/// live client session ends with a back-channel logout (Back-Channel Logout 1.0 §2.5) when the
/// client is enabled and registered an endpoint, as any ended session does; the logout carries
/// the person's `sub` at this client and its signing algorithm, since the client is gone by the
/// time it is delivered. Returns how many logouts were queued.
pub async fn remove(
    p: &super::Provider,
    client: &Client,
    event: crate::audit::Event,
) -> Result<usize, StoreError> {
    let now = p.clock.unix();
    let (client, pairwise) = (client.clone(), p.pairwise.clone());
    let queued =
        p.db.write(move |c| {
            let id = client.id.as_str();
            let endpoint = client
                .backchannel_logout_uri
                .as_ref()
                .filter(|_| client.enabled);
            let mut rows = Vec::new();
            if let Some(uri) = endpoint {
                for cs in store::sessions::live_of_client(c, id)? {
                    let sub = pairwise::subject(&pairwise, &client.sector, &cs.person_id);
                    rows.push(OutboxRow::due_now(
                        BACKCHANNEL_LOGOUT,
                        id.to_owned(),
                        uri.clone(),
                        Some(cs.id),
                        cs.person_id,
                        super::outbox::removed_client_event(&sub, client.id_token_alg),
                        now,
                    ));
                }
            }
            store::outbox::enqueue_all(c, &rows)?;
            // Its Shared Signals stream goes with it, and the events still waiting on it.
            if let Some(stream) = store::ssf::of_client(c, id)? {
                store::ssf::delete(c, &stream.id)?;
            }
            store::clients::delete(c, id)?;
            crate::audit::record(c, &event, now)?;
            Ok(rows.len())
        })
        .await?;
    if queued > 0 {
        p.deliveries.notify_one();
    }
    Ok(queued)
}

/// The spec that reproduces a client (for `client show` and edit forms).
pub fn spec_of(c: &Client) -> ClientSpec {
    ClientSpec {
        name: c.name.clone(),
        redirect_uris: c
            .redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        post_logout_redirect_uris: c
            .post_logout_redirect_uris
            .iter()
            .map(|u| u.as_str().to_owned())
            .collect(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
        backchannel_logout_session_required: Some(c.backchannel_logout_session_required),
        sector_identifier_uri: c.sector_identifier_uri.clone(),
        auth_method: Some(c.auth_method.as_str().to_owned()),
        jwks: c.jwks.clone(),
        jwks_uri: c.jwks_uri.clone(),
        scopes: Some(c.scopes.to_string()),
        id_token_alg: Some(c.id_token_alg.as_str().to_owned()),
        logo_uri: c.logo_uri.clone(),
        tos_uri: c.tos_uri.clone(),
        policy_uri: c.policy_uri.clone(),
        allow_verified_claims: Some(c.allow_verified_claims),
        security_event_uri: c.security_event_uri.clone(),
        require_pushed_authorization_requests: Some(c.require_pushed_authorization_requests),
        profile: Some(c.profile.as_str().to_owned()),
        dpop_bound_access_tokens: Some(c.dpop_bound_access_tokens),
        allow_shared_signals: Some(c.allow_shared_signals),
        enabled: Some(c.enabled),
    }
}
