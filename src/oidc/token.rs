//! Token endpoint requests (RFC 6749 §4.1.3, §6) and client credentials (§2.3, RFC 7523).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::error::OAuthError;
use crate::domain::Secret;

pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Form fields of a token, revocation or introspection request.
#[derive(Debug, Default)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<Secret>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    pub token: Option<Secret>,
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<Secret>,
}

impl TokenForm {
    /// Parses an `application/x-www-form-urlencoded` body; a repeated field is an error
    /// (RFC 6749 §3.2).
    pub fn parse(body: &[u8]) -> Result<TokenForm, OAuthError> {
        let mut form = TokenForm::default();
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            if seen.iter().any(|k| *k == key) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {key} appears more than once"
                )));
            }
            seen.push(key.to_string());
            let v = value.into_owned();
            match &*key {
                "grant_type" => form.grant_type = Some(v),
                "code" => form.code = Some(Secret::new(v)),
                "redirect_uri" => form.redirect_uri = Some(v),
                "code_verifier" => form.code_verifier = Some(Secret::new(v)),
                "refresh_token" => form.refresh_token = Some(Secret::new(v)),
                "scope" => form.scope = Some(v),
                "token" => form.token = Some(Secret::new(v)),
                "token_type_hint" => form.token_type_hint = Some(v),
                "client_id" => form.client_id = Some(v),
                "client_secret" => form.client_secret = Some(Secret::new(v)),
                "client_assertion_type" => form.client_assertion_type = Some(v),
                "client_assertion" => form.client_assertion = Some(Secret::new(v)),
                _ => {}
            }
        }
        Ok(form)
    }
}

/// How the client claims to authenticate.
#[derive(Debug)]
pub enum Credentials {
    Basic {
        client_id: String,
        secret: Secret,
    },
    Post {
        client_id: String,
        secret: Secret,
    },
    Jwt {
        client_id: Option<String>,
        assertion: Secret,
    },
}

/// Exactly one method per request (RFC 6749 §2.3); public clients do not exist here.
pub fn credentials(
    authorization: Option<&str>,
    form: &TokenForm,
) -> Result<Credentials, OAuthError> {
    let basic = authorization.and_then(|h| {
        let (scheme, rest) = h.trim().split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("basic")
            .then(|| rest.trim().to_owned())
    });
    let methods = [
        basic.is_some(),
        form.client_secret.is_some(),
        form.client_assertion.is_some(),
    ]
    .iter()
    .filter(|m| **m)
    .count();
    if methods > 1 {
        return Err(OAuthError::invalid_request(
            "use exactly one client authentication method",
        ));
    }
    if let Some(encoded) = basic {
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
        let decoded = STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
        let id = form_decode(id);
        if form.client_id.as_deref().is_some_and(|f| f != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the Basic credentials",
            ));
        }
        return Ok(Credentials::Basic {
            client_id: id,
            secret: Secret::new(form_decode(secret)),
        });
    }
    if let Some(secret) = &form.client_secret {
        let client_id = form
            .client_id
            .clone()
            .ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?;
        return Ok(Credentials::Post {
            client_id,
            secret: secret.clone(),
        });
    }
    if let Some(assertion) = &form.client_assertion {
        if form.client_assertion_type.as_deref() != Some(JWT_BEARER_ASSERTION) {
            return Err(OAuthError::invalid_request(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ));
        }
        return Ok(Credentials::Jwt {
            client_id: form.client_id.clone(),
            assertion: assertion.clone(),
        });
    }
    Err(OAuthError::invalid_client(
        "client authentication is required",
    ))
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_after_base64() {
        let header = format!("Basic {}", STANDARD.encode("my%3Aclient:p%40ss+word"));
        let form = TokenForm::default();
        match credentials(Some(&header), &form).expect("valid") {
            Credentials::Basic { client_id, secret } => {
                assert_eq!(client_id, "my:client");
                assert_eq!(secret.expose(), "p@ss word");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn two_authentication_methods_at_once_are_refused() {
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        let form = TokenForm::parse(b"client_id=a&client_secret=b").expect("form");
        let err = credentials(Some(&header), &form).expect_err("two methods");
        assert_eq!(err.error, super::super::error::ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_repeated_form_field_is_an_invalid_request() {
        assert!(TokenForm::parse(b"code=a&code=b").is_err());
    }
}
