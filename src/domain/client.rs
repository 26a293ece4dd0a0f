//! A registered relying party, as the protocol rules see it.

use super::{ClientId, RedirectUri, Scope};

/// Token endpoint authentication methods (OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(s: &str) -> Option<AuthMethod> {
        match s {
            "client_secret_basic" => Some(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Some(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Some(AuthMethod::PrivateKeyJwt),
            _ => None,
        }
    }

    pub fn uses_secret(self) -> bool {
        !matches!(self, AuthMethod::PrivateKeyJwt)
    }
}

/// ID token signature algorithm for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdTokenAlg {
    Rs256,
    Es256,
}

impl IdTokenAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Rs256 => "RS256",
            IdTokenAlg::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<IdTokenAlg> {
        match s {
            "RS256" => Some(IdTokenAlg::Rs256),
            "ES256" => Some(IdTokenAlg::Es256),
            _ => None,
        }
    }
}

/// A client site.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    /// base64url(SHA-256(secret)) for secret-based methods.
    pub secret_hash: Option<String>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub sector_identifier_uri: Option<String>,
    /// The pairwise sector: redirect URI host or the sector_identifier_uri host.
    pub sector: String,
    /// The client's public keys for private_key_jwt (a JWKS document), or where to fetch them.
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    /// Scopes the client may request.
    pub scopes: Scope,
    pub id_token_alg: IdTokenAlg,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub allow_verified_claims: bool,
    /// RFC 8935 push endpoint for Security Event Tokens (facts changed).
    pub security_event_uri: Option<String>,
    /// May obtain an `ssf` access token (client credentials) and manage a Shared Signals stream.
    pub allow_shared_signals: bool,
    pub enabled: bool,
}

impl Client {
    /// Exact string match against the registered URIs (OIDC Core §3.1.2.1).
    pub fn redirect_uri(&self, candidate: &str) -> Option<&RedirectUri> {
        self.redirect_uris.iter().find(|u| u.as_str() == candidate)
    }

    pub fn post_logout_redirect_uri(&self, candidate: &str) -> Option<&RedirectUri> {
        self.post_logout_redirect_uris
            .iter()
            .find(|u| u.as_str() == candidate)
    }
}
