//! OpenID Connect protocol rules, free of HTTP and SQL: validation, PKCE, pairwise subjects,
//! metadata, token shapes and errors. Time comes in as an argument.
#![deny(clippy::disallowed_methods)]

pub mod authorize;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod pairwise;
pub mod pkce;
pub mod token;
pub mod verified_claims;

pub use error::{ErrorCode, OAuthError};
