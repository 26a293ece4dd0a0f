//! The provider end to end: the `openidconnect` crate as the relying party, the helper with a
//! software card as the resident, a cookie-keeping HTTP client as the browser; on SQLite and on
//! PostgreSQL.

pub mod browser;
mod cli;
mod dpop;
pub mod flow;
mod negative;
pub mod node_rp;
mod nodes;
mod ops;
mod purge;
mod rotation;
pub mod rp;
pub mod support;
