//! DPoP at the provider's endpoints (RFC 9449): a proof is checked, its nonce (when the
//! deployment requires one) and its `jti` (never seen before, on any node) too.

use super::Provider;
use crate::jose::{AcceptedProof, ProofCheck, PROOF_ALGS};
use crate::oidc::{ErrorCode, OAuthError};
use crate::store;

/// The `algs` of a `WWW-Authenticate: DPoP` challenge and of
/// `dpop_signing_alg_values_supported`.
pub fn algs() -> Vec<&'static str> {
    PROOF_ALGS.iter().map(|a| a.as_str()).collect()
}

/// A refused proof: the error, and the nonce to send in `DPoP-Nonce` when there is one.
#[derive(Debug)]
pub struct DpopRefusal {
    pub error: OAuthError,
    pub nonce: Option<String>,
}

impl DpopRefusal {
    fn invalid(description: impl Into<String>) -> DpopRefusal {
        DpopRefusal {
            error: OAuthError::invalid_dpop_proof(description),
            nonce: None,
        }
    }
}

impl From<OAuthError> for DpopRefusal {
    fn from(error: OAuthError) -> DpopRefusal {
        DpopRefusal { error, nonce: None }
    }
}

/// The one `DPoP` header of a request: `None` without one; more than one is refused (§4.3).
pub fn single_header<'a>(
    mut values: impl Iterator<Item = &'a str>,
) -> Result<Option<&'a str>, DpopRefusal> {
    let first = values.next();
    if values.next().is_some() {
        return Err(DpopRefusal::invalid("send one DPoP header only"));
    }
    Ok(first)
}

/// A fresh nonce for the `DPoP-Nonce` header, when nonces are required.
pub fn fresh_nonce(p: &Provider) -> Option<String> {
    p.dpop_nonces.as_ref().map(|key| key.issue(p.clock.now()))
}

/// Checks a proof for a request to `path` with `method` (and the access token it comes with
/// at a resource endpoint), then records its `jti`. Returns the accepted proof (its `jkt`).
pub async fn check(
    p: &Provider,
    proof: &str,
    method: &str,
    path: &str,
    access_token: Option<&str>,
) -> Result<AcceptedProof, DpopRefusal> {
    let now = p.clock.now();
    let uri = p.url(path);
    let accepted = ProofCheck::new(method, &uri, now, access_token)
        .verify(proof)
        .map_err(|e| DpopRefusal::invalid(e.to_string()))?;
    if let Some(key) = &p.dpop_nonces {
        let fresh = accepted
            .nonce
            .as_deref()
            .is_some_and(|nonce| key.accepts(nonce, now));
        if !fresh {
            return Err(DpopRefusal {
                error: OAuthError::new(
                    ErrorCode::UseDpopNonce,
                    "the DPoP proof must carry the nonce from the DPoP-Nonce header",
                ),
                nonce: Some(key.issue(now)),
            });
        }
    }
    let (jkt, jti) = (accepted.jkt.clone(), accepted.jti.clone());
    let until = accepted.replay_until.unix_timestamp();
    let fresh =
        p.db.write(move |c| store::dpop::remember(c, &jkt, &jti, until))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot record a DPoP proof id");
                DpopRefusal::from(OAuthError::unavailable())
            })?;
    if !fresh {
        return Err(DpopRefusal::invalid(
            "the DPoP proof was used before (jti replayed)",
        ));
    }
    Ok(accepted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_advertises_exactly_the_proof_algorithms_verified() {
        assert_eq!(algs(), crate::oidc::discovery::DPOP_ALGS);
    }

    #[test]
    fn two_dpop_headers_are_refused_and_none_is_no_proof() {
        assert!(single_header(["a", "b"].into_iter()).is_err());
        assert_eq!(single_header(["a"].into_iter()).ok(), Some(Some("a")));
        assert_eq!(single_header(std::iter::empty()).ok(), Some(None));
    }
}
