//! The relying party: the `openidconnect` crate, configured by discovery.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdTokenClaims, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IntrospectionUrl, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RevocationUrl, TokenResponse, UserInfoClaims,
};

use super::support::Site;

pub type RpClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

pub struct Rp {
    pub client: RpClient,
    pub http: openidconnect::reqwest::Client,
    pub client_id: String,
    pub secret: String,
    pub redirect: String,
}

/// One authorization request's secrets, kept by the RP between redirect and callback.
pub struct Pending {
    pub url: String,
    pub state: String,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

impl Rp {
    pub async fn discover(tp: &impl Site, client_id: &str, secret: &str, redirect: &str) -> Rp {
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .build()
            .expect("http");
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(tp.issuer().to_owned()).expect("issuer"),
            &http,
        )
        .await
        .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_owned()),
            Some(ClientSecret::new(secret.to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).expect("redirect"))
        .set_introspection_url(IntrospectionUrl::new(tp.url("/introspect")).expect("url"))
        .set_revocation_url(RevocationUrl::new(tp.url("/revoke")).expect("url"));
        Rp {
            client,
            http,
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            redirect: redirect.to_owned(),
        }
    }

    /// An authorization URL with PKCE S256, state and nonce; `extra` parameters appended.
    pub fn authorize(&self, extra: &[(&str, &str)]) -> Pending {
        self.authorize_scoped(&[], extra)
    }

    /// The same with scopes besides `openid` (which the library always sends).
    pub fn authorize_scoped(&self, scopes: &[&str], extra: &[(&str, &str)]) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in scopes {
            req = req.add_scope(openidconnect::Scope::new((*s).to_owned()));
        }
        for (k, v) in extra {
            req = req.add_extra_param(*k, *v);
        }
        let (url, state, nonce) = req.url();
        Pending {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce,
            verifier,
        }
    }

    pub async fn exchange(&self, code: &str, verifier: PkceCodeVerifier) -> CoreTokenResponse {
        self.client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .expect("token endpoint known")
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .expect("the code is exchanged")
    }

    /// Refreshes (RFC 6749 §6) as the library does; the error is the library's, printed.
    pub async fn refresh(&self, token: &RefreshToken) -> Result<CoreTokenResponse, String> {
        self.client
            .exchange_refresh_token(token)
            .expect("token endpoint known")
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }

    /// Reads userinfo with an access token as the library does (its claims type chosen by the
    /// caller); the error is the library's, printed.
    pub async fn userinfo<C: AdditionalClaims>(
        &self,
        token: &AccessToken,
    ) -> Result<UserInfoClaims<C, CoreGenderClaim>, String> {
        self.client
            .user_info(token.clone(), None)
            .expect("userinfo endpoint known")
            .request_async(&self.http)
            .await
            .map_err(|e| format!("{e:?}"))
    }

    /// Verifies the ID token as a client library does, including nonce and at_hash.
    pub fn verify_id_token(&self, tokens: &CoreTokenResponse, nonce: &Nonce) -> CoreIdTokenClaims {
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = self.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, nonce)
            .expect("the ID token verifies")
            .clone();
        let expected = claims.access_token_hash().expect("at_hash");
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().expect("alg"),
            id_token.signing_key(&verifier).expect("key"),
        )
        .expect("hash");
        assert_eq!(&actual, expected, "at_hash matches the access token");
        claims
    }

    /// A refreshed ID token has no nonce (OIDC Core §12.2); returns its sub.
    pub fn verify_id_token_without_nonce(&self, tokens: &CoreTokenResponse) -> String {
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = self.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .expect("the refreshed ID token verifies");
        claims.subject().as_str().to_owned()
    }
}
