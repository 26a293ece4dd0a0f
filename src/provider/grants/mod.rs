//! Codes and tokens: issuing a code after login, exchanging it, refreshing, userinfo,
//! introspection (RFC 7662) and revocation (RFC 7009).

mod access;
mod code;
mod sealed;
mod tokens;

pub use access::{introspect, live_access_token, revoke, userinfo_claims, LiveAccessToken};
pub use code::{error_redirect, exchange_code, issue_code_in, CodeRequest};
pub use sealed::{CodeKeyRing, CodeSeal};
pub use tokens::refresh;

use super::Provider;
use crate::domain::{Client, MyKeyId};
use crate::oidc::{pairwise, OAuthError};
use crate::store::StoreError;

fn db_error(e: StoreError) -> OAuthError {
    tracing::error!(error = %e, "database error at the token endpoint");
    OAuthError::unavailable()
}

pub fn subject(p: &Provider, client: &Client, person: &MyKeyId) -> crate::domain::PairwiseSub {
    pairwise::subject(&p.pairwise, &client.sector, person)
}
