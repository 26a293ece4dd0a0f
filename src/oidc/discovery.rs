//! Provider metadata (OIDC Discovery 1.0 §3, RFC 8414, RFC 9207, Back-Channel Logout §2.1).

use serde_json::{json, Value};

use crate::domain::IdTokenAlg;

/// Authentication context class of a card login with the user-authentication key.
pub const ACR_CARD: &str = "urn:mykey-connect:acr:jpki-card";
/// Methods of a card login (RFC 8176): smart card, PIN, hardware-secured key.
pub const AMR_CARD: [&str; 3] = ["sc", "pin", "hwk"];

/// Relative paths of every endpoint, the single source for routes and metadata.
pub mod paths {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const AUTHORIZE: &str = "/authorize";
    pub const TOKEN: &str = "/token";
    pub const USERINFO: &str = "/userinfo";
    pub const JWKS: &str = "/jwks.json";
    pub const REVOKE: &str = "/revoke";
    pub const INTROSPECT: &str = "/introspect";
    pub const END_SESSION: &str = "/end_session";
    /// RFC 9126 §2.
    pub const PAR: &str = "/par";
}

pub const CLIENT_AUTH_METHODS: [&str; 3] = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
];
pub const ASSERTION_ALGS: [&str; 3] = ["RS256", "PS256", "ES256"];
/// RFC 9449 §5.1: the algorithms a DPoP proof may use (`jose::PROOF_ALGS`).
pub const DPOP_ALGS: [&str; 3] = ["ES256", "PS256", "RS256"];

/// The metadata document for `issuer` (no trailing slash); `require_par`: every client must
/// push its authorization requests (RFC 9126 §5).
pub fn metadata(issuer: &str, scopes: &[&str], claims: &[&str], require_par: bool) -> Value {
    let url = |p: &str| format!("{issuer}{p}");
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "revocation_endpoint": url(paths::REVOKE),
        "introspection_endpoint": url(paths::INTROSPECT),
        "end_session_endpoint": url(paths::END_SESSION),
        "pushed_authorization_request_endpoint": url(paths::PAR),
        "require_pushed_authorization_requests": require_par,
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise"],
        // Exactly the algorithms the keyring holds a signing key for.
        "id_token_signing_alg_values_supported": IdTokenAlg::ALL.map(IdTokenAlg::as_str),
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "claim_types_supported": ["normal"],
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "acr_values_supported": [ACR_CARD],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": ["ja", "en"],
        "display_values_supported": ["page"],
        "authorization_response_iss_parameter_supported": true,
        "dpop_signing_alg_values_supported": DPOP_ALGS,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "frontchannel_logout_session_supported": false,
    });
    // OpenID Connect for Identity Assurance 1.0 §8.
    let ida = json!({
        "verified_claims_supported": true,
        "trust_frameworks_supported": [super::verified_claims::TRUST_FRAMEWORK],
        "evidence_supported": [super::verified_claims::EVIDENCE_TYPE],
        "electronic_signature_types_supported": [super::verified_claims::SIGNATURE_TYPE],
        "claims_in_verified_claims_supported": [
            "name", "family_name", "given_name", "address", "birthdate", "gender",
            super::verified_claims::SUBSTITUTE_CLAIM
        ],
    });
    if let (Value::Object(m), Value::Object(extra)) = (&mut doc, ida) {
        m.extend(extra);
    }
    doc
}
