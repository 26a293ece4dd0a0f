//! The provider's two card-login endpoints over HTTP: fetch a challenge, post the response.

use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use super::LoginError;
use crate::card::protocol::{CardErrorCode, ChallengeDocument, ChallengeResponse, ErrorBody};

/// Answers are a few hundred bytes; anything much larger is not a provider talking.
const MAX_BODY: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct ProviderClient {
    http: Client,
}

impl ProviderClient {
    pub fn new() -> Result<ProviderClient, LoginError> {
        let http = Client::builder()
            .timeout(TIMEOUT)
            // The origin checks of spec §2 are against the URL fetched: never follow elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("mykey-helper/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LoginError::Network {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(ProviderClient { http })
    }

    /// `GET` the challenge document (spec §2).
    pub fn fetch_challenge(&self, url: &Url) -> Result<ChallengeDocument, LoginError> {
        let response = self
            .http
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .send()
            .map_err(|e| network(url, &e))?;
        let body = success_body(url, response)?;
        serde_json::from_slice(&body).map_err(|e| LoginError::MalformedChallenge(e.to_string()))
    }

    /// `POST` the signed response (spec §4); `Ok` when the provider accepted it.
    pub fn post_response(&self, uri: &Url, answer: &ChallengeResponse) -> Result<(), LoginError> {
        let response = self
            .http
            .post(uri.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(answer).unwrap_or_default())
            .send()
            .map_err(|e| network(uri, &e))?;
        success_body(uri, response).map(drop)
    }
}

fn network(url: &Url, error: &reqwest::Error) -> LoginError {
    // reqwest's Display hides the cause ("error sending request"); the chain says why.
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    LoginError::Network {
        url: url.to_string(),
        reason,
    }
}

/// The body of a 2xx answer, or the error the provider gave (spec §5).
fn success_body(url: &Url, response: Response) -> Result<Vec<u8>, LoginError> {
    let status = response.status();
    let body = response.bytes().map_err(|e| network(url, &e))?;
    if body.len() > MAX_BODY {
        return Err(LoginError::Http {
            status: status.as_u16(),
        });
    }
    if status.is_success() {
        return Ok(body.to_vec());
    }
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(error) => Err(LoginError::Provider {
            status: status.as_u16(),
            code: CardErrorCode::parse(&error.error),
            error: error.error,
            description: error.error_description,
        }),
        Err(_) => Err(LoginError::Http {
            status: status.as_u16(),
        }),
    }
}
