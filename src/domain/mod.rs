//! Pure identity-domain types: ids, secrets, scopes, redirect URIs, clients. No HTTP, no SQL.
#![deny(clippy::disallowed_methods)]

pub mod client;
pub mod ids;
pub mod redirect_uri;
pub mod scope;
pub mod secret;

pub use client::{AuthMethod, Client, IdTokenAlg, Profile};
pub use ids::{ClientId, MyKeyId, PairwiseSub};
pub use redirect_uri::RedirectUri;
pub use scope::Scope;
pub use secret::Secret;
