//! Upgrades: a database as an earlier version left it (its migrations applied one at a time,
//! its rows as that version wrote them) migrates to this version, and the sessions, tokens,
//! codes, keys and audit chain it held still work.

pub mod fixture;
mod record;
mod sessions;
