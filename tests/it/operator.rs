//! The operator's commands through the real binary: `config check`, `migrate --dry-run`,
//! `serve` as a systemd service (readiness) and `healthcheck`, `backup` and `restore`.

mod backup;
mod config;
mod migrate;
mod service;

use std::process::{Command, Output};

/// The binary with a clean environment: only what the test gives it.
pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mykey-connect"));
    cmd.env_clear().env("PATH", "/usr/bin:/bin");
    cmd
}

pub fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
