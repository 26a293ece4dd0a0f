//! Shared Signals pushes (RFC 8935) from the outbox: to the endpoint and with the credential
//! the stream names at the time of the attempt.

use std::sync::Arc;

use super::super::{Provider, ProviderError};
use super::DeliveryError;
use crate::store;
use crate::store::outbox::OutboxRow;

/// RFC 8935 §2: pushes a stream's Security Event Token to the endpoint the stream names now,
/// with its `Authorization` header. A 400 with an error (§2.3) is final; anything else but
/// success is tried again.
pub(super) async fn push_ssf(
    p: &Arc<Provider>,
    row: &OutboxRow,
    client: Option<Arc<crate::domain::Client>>,
) -> Result<(), DeliveryError> {
    let client = client.ok_or(DeliveryError::ClientGone)?;
    let stream_id = row.stream_id.clone().unwrap_or_default();
    let stream =
        p.db.read(move |c| store::ssf::get(c, &stream_id))
            .await
            .map_err(ProviderError::from)?
            .ok_or(DeliveryError::StreamGone)?;
    let url = stream
        .endpoint_url
        .clone()
        .ok_or(DeliveryError::StreamGone)?;
    let token = {
        let (p, row) = (p.clone(), row.clone());
        tokio::task::spawn_blocking(move || super::super::ssf::events::set_token(&p, &row, &client))
            .await
            .map_err(|e| ProviderError::Internal(e.to_string()))??
    };
    let mut request = p
        .http
        .post(&url)
        .timeout(p.settings.backchannel_timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/secevent+jwt")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(token);
    let auth = super::super::ssf::push_authorization(p, &stream)
        .map_err(|e| ProviderError::Internal(e.to_string()))?;
    if let Some(auth) = auth {
        request = request.header(reqwest::header::AUTHORIZATION, auth);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            DeliveryError::TimedOut
        } else if e.is_connect() {
            DeliveryError::Unreachable
        } else {
            DeliveryError::Request(e)
        }
    })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    if status == reqwest::StatusCode::BAD_REQUEST {
        // RFC 8935 §2.4: {"err": code, "description": text}; kept short in the dead letter.
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if let Some(err) = body["err"].as_str() {
            let description = body["description"].as_str().unwrap_or_default();
            let reason: String = format!("{err}: {description}").chars().take(200).collect();
            return Err(DeliveryError::Rejected(reason));
        }
    }
    Err(DeliveryError::Status(status.as_u16()))
}
