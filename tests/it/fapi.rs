//! FAPI 2.0 Security Profile as a bank's relying party sees it: PS256 ID tokens, pushed
//! authorization requests (RFC 9126) and the per-client `fapi2` profile; on both databases.

mod node;
mod par;
mod profile;
mod ps256;
mod support;
