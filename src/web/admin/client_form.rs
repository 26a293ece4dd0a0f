//! The client form as typed text, to and from the provider's registration spec.

use super::views::ClientForm;
use crate::domain::Client;
use crate::provider::clients::{spec_of, ClientSpec};

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn opt(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The form as a registration spec (the provider's rules then validate it).
pub fn spec_from(f: &ClientForm, enabled: bool) -> ClientSpec {
    ClientSpec {
        name: f.name.clone(),
        redirect_uris: lines(&f.redirect_uris),
        post_logout_redirect_uris: lines(&f.post_logout_redirect_uris),
        backchannel_logout_uri: opt(&f.backchannel_logout_uri),
        backchannel_logout_session_required: None,
        sector_identifier_uri: opt(&f.sector_identifier_uri),
        auth_method: opt(&f.auth_method),
        jwks: opt(&f.jwks),
        jwks_uri: opt(&f.jwks_uri),
        scopes: opt(&f.scopes),
        id_token_alg: opt(&f.id_token_alg),
        logo_uri: opt(&f.logo_uri),
        tos_uri: opt(&f.tos_uri),
        policy_uri: opt(&f.policy_uri),
        allow_verified_claims: Some(f.allow_verified_claims.is_some()),
        security_event_uri: opt(&f.security_event_uri),
        require_pushed_authorization_requests: Some(
            f.require_pushed_authorization_requests.is_some(),
        ),
        profile: opt(&f.profile),
        dpop_bound_access_tokens: Some(f.dpop_bound_access_tokens.is_some()),
        allow_shared_signals: Some(f.allow_shared_signals.is_some()),
        enabled: Some(enabled),
    }
}

pub fn form_of(c: &Client) -> ClientForm {
    let s = spec_of(c);
    ClientForm {
        name: s.name,
        redirect_uris: s.redirect_uris.join("\n"),
        post_logout_redirect_uris: s.post_logout_redirect_uris.join("\n"),
        backchannel_logout_uri: s.backchannel_logout_uri.unwrap_or_default(),
        sector_identifier_uri: s.sector_identifier_uri.unwrap_or_default(),
        auth_method: s.auth_method.unwrap_or_default(),
        jwks: s.jwks.unwrap_or_default(),
        jwks_uri: s.jwks_uri.unwrap_or_default(),
        scopes: s.scopes.unwrap_or_default(),
        allow_verified_claims: c.allow_verified_claims.then(|| "on".to_owned()),
        dpop_bound_access_tokens: c.dpop_bound_access_tokens.then(|| "on".to_owned()),
        logo_uri: s.logo_uri.unwrap_or_default(),
        tos_uri: s.tos_uri.unwrap_or_default(),
        policy_uri: s.policy_uri.unwrap_or_default(),
        security_event_uri: s.security_event_uri.unwrap_or_default(),
        id_token_alg: s.id_token_alg.unwrap_or_default(),
        profile: s.profile.unwrap_or_default(),
        require_pushed_authorization_requests: c
            .require_pushed_authorization_requests
            .then(|| "on".to_owned()),
        allow_shared_signals: c.allow_shared_signals.then(|| "on".to_owned()),
        csrf: None,
    }
}
