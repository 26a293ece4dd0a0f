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
    /// RSASSA-PSS (RFC 7518 §3.5), one of the two FAPI 2.0 allows (Security Profile §5.4).
    Ps256,
    Es256,
}

impl IdTokenAlg {
    /// Every algorithm the provider holds a signing key for, in discovery order.
    pub const ALL: [IdTokenAlg; 3] = [IdTokenAlg::Rs256, IdTokenAlg::Ps256, IdTokenAlg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Rs256 => "RS256",
            IdTokenAlg::Ps256 => "PS256",
            IdTokenAlg::Es256 => "ES256",
        }
    }

    pub fn parse(s: &str) -> Option<IdTokenAlg> {
        match s {
            "RS256" => Some(IdTokenAlg::Rs256),
            "PS256" => Some(IdTokenAlg::Ps256),
            "ES256" => Some(IdTokenAlg::Es256),
            _ => None,
        }
    }
}

/// The security profile a client is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// OpenID Connect as in the README: code flow with PKCE S256, any registered auth method.
    #[default]
    Oidc,
    /// FAPI 2.0 Security Profile (§5.3): pushed authorization requests, PKCE S256,
    /// private_key_jwt, PS256 or ES256 ID tokens, codes living at most 60 s.
    Fapi2,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Oidc => "oidc",
            Profile::Fapi2 => "fapi2",
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "oidc" => Some(Profile::Oidc),
            "fapi2" => Some(Profile::Fapi2),
            _ => None,
        }
    }
}

/// FAPI 2.0 Security Profile §5.3.2.1 item 14: authorization codes live at most 60 seconds.
pub const FAPI2_MAX_CODE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

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
    /// RFC 9126 §6: authorization requests only through the PAR endpoint.
    pub require_pushed_authorization_requests: bool,
    pub profile: Profile,
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof.
    pub dpop_bound_access_tokens: bool,
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

    /// Whether `/authorize` accepts this client's requests only as pushed ones (RFC 9126 §6;
    /// FAPI 2.0 Security Profile §5.3.2.2 item 2).
    pub fn requires_pushed_requests(&self) -> bool {
        self.require_pushed_authorization_requests || self.profile == Profile::Fapi2
    }

    /// Whether the token endpoint refuses this client's requests without a DPoP proof, so that
    /// its access and refresh tokens are always sender-constrained: its own
    /// `dpop_bound_access_tokens` (RFC 9449 §5.2), or the FAPI 2.0 profile, which requires
    /// sender-constrained tokens (Security Profile §5.3.2.1 item 1; DPoP chosen here, not mTLS).
    pub fn requires_dpop(&self) -> bool {
        self.dpop_bound_access_tokens || self.profile == Profile::Fapi2
    }

    /// How long this client's authorization codes live, given the configured lifetime.
    pub fn code_lifetime(&self, configured: std::time::Duration) -> std::time::Duration {
        match self.profile {
            Profile::Oidc => configured,
            Profile::Fapi2 => configured.min(FAPI2_MAX_CODE_LIFETIME),
        }
    }
}
