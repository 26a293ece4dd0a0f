//! The test pinentry (tests/support/test-pinentry) as the helper's dialogs, and what they
//! were told; shared by the pinentry and Debian package tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const TEST_PINENTRY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/test-pinentry");

/// The test pinentry behind a wrapper that records each start's argv (/proc/self/cmdline)
/// before it becomes the pinentry (`exec` keeps the process).
pub struct Dialogs {
    _dir: tempfile::TempDir,
    pub program: PathBuf,
    log: PathBuf,
    answers: PathBuf,
    argv: PathBuf,
}

impl Dialogs {
    /// Dialogs in which the person types `answers` in turn (`CANCEL` presses Cancel).
    pub fn answering(answers: &[&str]) -> Dialogs {
        let dir = tempfile::tempdir().expect("tempdir");
        let program = dir.path().join("pinentry");
        let argv = dir.path().join("argv");
        std::fs::write(
            &program,
            format!(
                "#!/usr/bin/env bash\n\
                 mapfile -d '' args </proc/$$/cmdline\n\
                 printf '%s ' \"${{args[@]}}\" >>'{argv}'\n\
                 echo >>'{argv}'\n\
                 exec '{TEST_PINENTRY}' \"$@\"\n",
                argv = argv.display(),
            ),
        )
        .expect("write wrapper");
        make_executable(&program);
        let answers_file = dir.path().join("answers");
        let lines: String = answers.iter().map(|a| format!("{a}\n")).collect();
        std::fs::write(&answers_file, lines).expect("write answers");
        Dialogs {
            log: dir.path().join("log"),
            answers: answers_file,
            argv,
            program,
            _dir: dir,
        }
    }

    /// The environment the helper passes on to its pinentry.
    pub fn env(&self) -> [(&'static str, &Path); 3] {
        [
            ("MYKEY_PINENTRY", &self.program),
            ("MYKEY_TEST_PINENTRY_LOG", &self.log),
            ("MYKEY_TEST_PINENTRY_ANSWERS", &self.answers),
        ]
    }

    /// Sets that environment on `command`.
    pub fn configure<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.envs(self.env())
    }

    /// Every command the pinentries received, percent-decoded.
    pub fn commands(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                percent_encoding::percent_decode_str(line)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect()
    }

    /// The text of each command with this verb, in order.
    pub fn texts_of(&self, verb: &str) -> Vec<String> {
        let prefix = format!("{verb} ");
        self.commands()
            .iter()
            .filter_map(|c| c.strip_prefix(&prefix).map(str::to_owned))
            .collect()
    }

    pub fn count(&self, verb: &str) -> usize {
        self.commands()
            .iter()
            .filter(|c| c.split(' ').next() == Some(verb))
            .count()
    }

    /// The argv of each pinentry started, one line each.
    pub fn argv(&self) -> Vec<String> {
        std::fs::read_to_string(&self.argv)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Answers not taken by any dialog.
    pub fn answers_left(&self) -> String {
        std::fs::read_to_string(&self.answers).expect("answers")
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs `program login <url> --card file:<card>` as the desktop would: no terminal, no `--yes`.
pub fn login_without_terminal(program: &str, url: &str, card: &Path, dialogs: &Dialogs) -> Output {
    let mut command = Command::new(program);
    command
        .args(["login", url, "--card"])
        .arg(format!("file:{}", card.display()))
        .env("MYKEY_LOG", "mykey_connect=trace")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    dialogs.configure(&mut command);
    command.output().expect("run mykey-helper")
}

/// Asserts that `secret` is in none of `texts`, once the provider's address (its port may
/// hold the same digits) and log timestamps are taken out.
pub fn assert_nowhere(secret: &str, base: &str, texts: &[(&str, String)]) {
    for (what, text) in texts {
        let cleaned: String = text
            .replace(base, "<provider>")
            .lines()
            .map(|line| match line.split_once(' ') {
                Some((first, rest)) if first.ends_with('Z') && first.contains('T') => rest,
                _ => line,
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !cleaned.contains(secret),
            "the secret appears in {what}:\n{cleaned}"
        );
    }
}
