//! Identity verification: the four basic facts from the signature certificate released as
//! OIDC4IDA `verified_claims`, only with consent, and a Security Event Token when they change.

mod facts;
mod refusals;
pub mod support;
