//! Runs `mykey-connect crl import FILE` as its own process, as an operator (or a cron job)
//! would next to the running server, and reads what it reports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::procfs;

/// What one import run gave.
pub struct Import {
    pub seconds: f64,
    pub peak_kib: Option<u64>,
    /// `wait4` or `sampled`, see `stats::IngestResult::peak_method`.
    pub peak_method: &'static str,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Import {
    /// The number printed before `label` in the import's report line, e.g. `entries` in
    /// "…: 1000000 entries, 0 newly revoked, …".
    pub fn figure(&self, label: &str) -> Option<u64> {
        let at = self.stdout.find(&format!(" {label}"))?;
        self.stdout[..at]
            .rsplit([' ', ',', ':'])
            .next()?
            .parse()
            .ok()
    }

    /// The first lines of what the command said, for an error message.
    pub fn said(&self) -> String {
        let text = format!("{} {}", self.stdout.trim(), self.stderr.trim());
        text.chars().take(300).collect()
    }
}

const GNU_TIME: &str = "/usr/bin/time";

/// Runs `<bin> crl import <crl>`; its peak RSS comes from `wait4` through GNU time when that is
/// installed, else from sampling `/proc/<pid>/status` every 2 ms.
pub fn run(bin: &Path, crl: &Path) -> anyhow::Result<Import> {
    let args = ["crl".as_ref(), "import".as_ref(), crl.as_os_str()];
    if Path::new(GNU_TIME).exists() {
        let report = temp_file("time");
        let start = Instant::now();
        let output = Command::new(GNU_TIME)
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(bin)
            .args(args)
            .output()
            .with_context(|| format!("running {} {}", bin.display(), crl.display()))?;
        let seconds = start.elapsed().as_secs_f64();
        let peak_kib = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| t.lines().last()?.trim().parse().ok());
        let _ = std::fs::remove_file(&report);
        return Ok(Import {
            seconds,
            peak_kib,
            peak_method: "wait4",
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let (out_path, err_path) = (temp_file("out"), temp_file("err"));
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(args)
        .stdout(std::fs::File::create(&out_path)?)
        .stderr(std::fs::File::create(&err_path)?)
        .spawn()
        .with_context(|| format!("running {}", bin.display()))?;
    let mut peak = None;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        peak = procfs::status_kib(child.id(), "VmHWM").max(peak);
        std::thread::sleep(Duration::from_millis(2));
    };
    let seconds = start.elapsed().as_secs_f64();
    let read = |p: &PathBuf| {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        let _ = std::fs::remove_file(p);
        text
    };
    Ok(Import {
        seconds,
        peak_kib: peak,
        peak_method: "sampled",
        success: status.success(),
        stdout: read(&out_path),
        stderr: read(&err_path),
    })
}

fn temp_file(what: &str) -> PathBuf {
    std::env::temp_dir().join(format!("mykey-loadgen-{}-{what}.txt", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_read_from_the_import_report_line() {
        let import = Import {
            seconds: 1.0,
            peak_kib: None,
            peak_method: "sampled",
            success: true,
            stdout: "/tmp/x.crl: imported CRL 3 of root ab (auth): 1000001 entries, 1 newly \
                     revoked, 0 no longer listed, 0 person(s) logged out, 0 renewal(s) carried over\n"
                .to_owned(),
            stderr: String::new(),
        };
        assert_eq!(import.figure("entries"), Some(1_000_001));
        assert_eq!(import.figure("newly revoked"), Some(1));
        assert_eq!(import.figure("no longer listed"), Some(0));
        assert_eq!(import.figure("person(s) logged out"), Some(0));
        assert_eq!(import.figure("widgets"), None);
    }
}
