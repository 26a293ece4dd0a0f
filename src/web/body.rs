//! Reading request bodies with a size limit, so every endpoint answers 413 in its own shape.

use actix_web::web;
use futures_util::StreamExt as _;

use super::error::WebError;

/// Collects at most `limit` bytes; more is a [`WebError::TooLarge`].
pub async fn read(
    mut payload: web::Payload,
    limit: usize,
    card: bool,
) -> Result<web::Bytes, WebError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| WebError::Internal(format!("reading the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(WebError::TooLarge { card });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The media type without parameters, lower-cased.
pub fn media_type(req: &actix_web::HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}
