//! mykey-connect: an OpenID Connect provider whose only authenticator is the My Number Card.
//!
//! Crate map:
//! - [`card`]: JPKI facts, the card login wire protocol, certificate/CRL/signature verification.
//! - [`testkit`]: a test J-LIS CA, card issuance, CRLs and linkage files (demo and tests).
//! - [`helper`]: the resident's helper: APDUs, the software card, PC/SC and vpcd transports.
//! - [`domain`]: identity types (ids, secrets, scopes, redirect URIs, clients).
//! - [`oidc`]: OpenID Connect protocol rules without HTTP or SQL.
//! - [`jose`]: JWS, JWK/JWKS, signing keys and keys sealed at rest.
//! - [`store`]: diesel persistence over SQLite and PostgreSQL.
//! - [`provider`]: the application: login, grants, sessions, clients, keys.
//! - [`web`]: actix routes, pages and the admin surface.
//! - [`admin`]: operator accounts, sessions, API keys and the operations they may run.
//! - [`audit`]: the hash-chained audit trail.
//! - [`config`], [`clock`]: settings and time.

pub mod admin;
pub mod audit;
pub mod card;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod helper;
pub mod jose;
pub mod oidc;
pub mod provider;
pub mod store;
pub mod testkit;
pub mod web;
