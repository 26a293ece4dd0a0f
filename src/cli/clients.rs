//! `mykey-connect client add|list|show|update|remove|rotate-secret`.

use clap::Args;
use serde_json::json;

use super::CliError;
use crate::admin::{self, Principal};
use crate::domain::Client;
use crate::provider::clients::{self, ClientSpec};
use crate::provider::Provider;

/// Client fields; on `update`, only the given ones change.
#[derive(Debug, Args, Default)]
pub struct ClientArgs {
    /// Display name shown to residents on the consent page.
    #[arg(long)]
    pub name: Option<String>,
    /// Redirect URI (repeat for several; exact match).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URI (repeat for several).
    #[arg(long = "post-logout-uri")]
    pub post_logout_redirect_uris: Vec<String>,
    /// OpenID Connect Back-Channel Logout endpoint of the site.
    #[arg(long)]
    pub backchannel_logout_uri: Option<String>,
    /// Whether the site needs `sid` in logout tokens (default true).
    #[arg(long)]
    pub backchannel_logout_session_required: Option<bool>,
    /// https URL of a JSON array listing every redirect URI (needed when they span hosts).
    #[arg(long)]
    pub sector_identifier_uri: Option<String>,
    /// client_secret_basic (default), client_secret_post or private_key_jwt.
    #[arg(long)]
    pub auth_method: Option<String>,
    /// File holding the site's public JWKS (private_key_jwt).
    #[arg(long)]
    pub jwks_file: Option<std::path::PathBuf>,
    /// URL of the site's public JWKS (private_key_jwt).
    #[arg(long)]
    pub jwks_uri: Option<String>,
    /// Space-separated scopes the site may request (default "openid").
    #[arg(long)]
    pub scopes: Option<String>,
    /// RS256 (default), PS256 or ES256.
    #[arg(long)]
    pub id_token_alg: Option<String>,
    #[arg(long)]
    pub logo_uri: Option<String>,
    #[arg(long)]
    pub tos_uri: Option<String>,
    #[arg(long)]
    pub policy_uri: Option<String>,
    /// Allow this site to request verified identity claims.
    #[arg(long)]
    pub allow_verified_claims: Option<bool>,
    /// RFC 8935 endpoint receiving Security Event Tokens when verified facts change.
    #[arg(long)]
    pub security_event_uri: Option<String>,
    /// Accept this site's authorization requests only through the PAR endpoint (RFC 9126).
    #[arg(long)]
    pub require_pushed_authorization_requests: Option<bool>,
    /// Security profile: oidc (default) or fapi2 (FAPI 2.0: PAR, PKCE S256, private_key_jwt,
    /// PS256/ES256 ID tokens, 60-second codes).
    #[arg(long)]
    pub profile: Option<String>,
    /// Refuse token requests without a DPoP proof, so every token is DPoP-bound (RFC 9449).
    #[arg(long)]
    pub dpop_bound_access_tokens: Option<bool>,
    /// Allow the client credentials grant (scope `ssf`) to manage a Shared Signals stream.
    #[arg(long)]
    pub allow_shared_signals: Option<bool>,
    #[arg(long)]
    pub enabled: Option<bool>,
}

impl ClientArgs {
    /// Applies the given fields over `base`.
    pub fn apply(&self, mut spec: ClientSpec) -> Result<ClientSpec, CliError> {
        if let Some(v) = &self.name {
            spec.name = v.clone();
        }
        if !self.redirect_uris.is_empty() {
            spec.redirect_uris = self.redirect_uris.clone();
        }
        if !self.post_logout_redirect_uris.is_empty() {
            spec.post_logout_redirect_uris = self.post_logout_redirect_uris.clone();
        }
        let set = |target: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                *target = Some(v.clone());
            }
        };
        set(
            &mut spec.backchannel_logout_uri,
            &self.backchannel_logout_uri,
        );
        set(&mut spec.sector_identifier_uri, &self.sector_identifier_uri);
        set(&mut spec.auth_method, &self.auth_method);
        set(&mut spec.jwks_uri, &self.jwks_uri);
        set(&mut spec.scopes, &self.scopes);
        set(&mut spec.id_token_alg, &self.id_token_alg);
        set(&mut spec.logo_uri, &self.logo_uri);
        set(&mut spec.tos_uri, &self.tos_uri);
        set(&mut spec.policy_uri, &self.policy_uri);
        set(&mut spec.security_event_uri, &self.security_event_uri);
        set(&mut spec.profile, &self.profile);
        if self.allow_shared_signals.is_some() {
            spec.allow_shared_signals = self.allow_shared_signals;
        }
        if let Some(path) = &self.jwks_file {
            spec.jwks = Some(std::fs::read_to_string(path).map_err(|e| CliError::read(path, e))?);
        }
        if self.backchannel_logout_session_required.is_some() {
            spec.backchannel_logout_session_required = self.backchannel_logout_session_required;
        }
        if self.allow_verified_claims.is_some() {
            spec.allow_verified_claims = self.allow_verified_claims;
        }
        if self.require_pushed_authorization_requests.is_some() {
            spec.require_pushed_authorization_requests = self.require_pushed_authorization_requests;
        }
        if self.dpop_bound_access_tokens.is_some() {
            spec.dpop_bound_access_tokens = self.dpop_bound_access_tokens;
        }
        if self.enabled.is_some() {
            spec.enabled = self.enabled;
        }
        Ok(spec)
    }
}

/// What an RP developer needs, as text or JSON.
pub fn describe(p: &Provider, c: &Client, secret: Option<&str>, as_json: bool) -> String {
    let issuer = p.settings.issuer_str();
    if as_json {
        let mut v = json!({
            "client_id": c.id.as_str(),
            "issuer": issuer,
            "discovery_url": format!("{issuer}/.well-known/openid-configuration"),
            "spec": clients::spec_of(c),
            "sector": c.sector,
        });
        if let Some(s) = secret {
            v["client_secret"] = json!(s);
        }
        return format!("{v:#}\n");
    }
    let mut out = format!(
        "client_id:     {}\nname:          {}\nissuer:        {issuer}\ndiscovery:     {issuer}/.well-known/openid-configuration\nauth method:   {}\nprofile:       {}\nredirect URIs: {}\nscopes:        {}\nsector:        {}\nenabled:       {}\n",
        c.id,
        c.name,
        c.auth_method.as_str(),
        c.profile.as_str(),
        c.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(" "),
        c.scopes,
        c.sector,
        c.enabled,
    );
    if let Some(s) = secret {
        out.push_str(&format!(
            "client_secret: {s}\n(shown once: store it now; only its hash is kept)\n"
        ));
    }
    out
}

pub async fn add(p: &Provider, args: &ClientArgs, as_json: bool) -> Result<String, CliError> {
    let spec = args.apply(ClientSpec::default())?;
    let (client, secret) = admin::clients::create(p, &Principal::cli(), &spec).await?;
    Ok(describe(
        p,
        &client,
        secret.as_ref().map(|s| s.expose()),
        as_json,
    ))
}

async fn load(p: &Provider, id: &str) -> Result<Client, CliError> {
    Ok(admin::clients::load(p, id)
        .await?
        .ok_or(admin::AdminError::NotFound("client"))?
        .0)
}

pub async fn show(p: &Provider, id: &str, as_json: bool) -> Result<String, CliError> {
    Ok(describe(p, &load(p, id).await?, None, as_json))
}

pub async fn list(p: &Provider, as_json: bool) -> Result<String, CliError> {
    let clients = admin::clients::list(p, None).await?;
    if as_json {
        let v: Vec<_> = clients
            .iter()
            .map(|c| json!({"client_id": c.id.as_str(), "name": c.name, "enabled": c.enabled}))
            .collect();
        return Ok(format!("{:#}\n", json!(v)));
    }
    let mut out = String::new();
    for c in clients {
        out.push_str(&format!(
            "{:<24} {:<8} {}\n",
            c.id,
            if c.enabled { "enabled" } else { "disabled" },
            c.name
        ));
    }
    Ok(out)
}

pub async fn update(
    p: &Provider,
    id: &str,
    args: &ClientArgs,
    as_json: bool,
) -> Result<String, CliError> {
    let spec = args.apply(clients::spec_of(&load(p, id).await?))?;
    let updated = admin::clients::update(p, &Principal::cli(), id, &spec).await?;
    Ok(describe(p, &updated, None, as_json))
}

pub async fn remove(p: &Provider, id: &str) -> Result<String, CliError> {
    let logouts = admin::clients::delete(p, &Principal::cli(), id).await?;
    Ok(format!(
        "removed client {id} with its sessions, consents and tokens; {logouts} back-channel \
         logout(s) queued\n"
    ))
}

pub async fn rotate_secret(p: &Provider, id: &str, as_json: bool) -> Result<String, CliError> {
    let client = load(p, id).await?;
    let secret = admin::clients::rotate_secret(p, &Principal::cli(), id).await?;
    Ok(describe(p, &client, Some(secret.expose()), as_json))
}
