//! Revocation-driven session termination as relying parties see it: CRLs in by every path,
//! logout tokens validated like an RP validates them, renewals without logout, deliveries that
//! survive outages and a killed provider.

mod delivery;
mod ingest;
mod renewal;
pub mod support;
pub mod termination;
