//! The Containerfile, checked here for what no builder on this machine can check by building
//! it: a multi-stage build, a non-root user, a health check the image can run, the volume the
//! database lives in, and a build context without `target/`.

use std::path::Path;

/// One instruction: its keyword (upper case) and the rest, continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if current.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                let (keyword, rest) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((keyword.to_ascii_uppercase(), rest.trim().to_owned()));
                current.clear();
            }
        }
    }
    out
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_image_builds_in_one_stage_and_runs_the_provider_in_another_as_a_non_root_user() {
    let text = std::fs::read_to_string(repo().join("Containerfile")).expect("Containerfile");
    let all = instructions(&text);
    let stages: Vec<usize> = all
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stages.len(), 2, "a build stage and a runtime stage");
    let build = &all[stages[0]..stages[1]];
    let run = &all[stages[1]..];
    assert!(
        all[stages[0]].1.ends_with(" AS build"),
        "{:?}",
        all[stages[0]]
    );
    assert!(
        build
            .iter()
            .any(|(k, r)| k == "RUN"
                && r.contains("cargo build --release --locked --bin mykey-connect")),
        "the lock file decides the dependencies"
    );
    assert!(
        run[0].1.contains("debian:bookworm-slim") || run[0].1.contains("distroless"),
        "{:?}",
        run[0]
    );
    let get = |keyword: &str| -> Vec<&str> {
        run.iter()
            .filter(|(k, _)| k == keyword)
            .map(|(_, r)| r.as_str())
            .collect()
    };
    let user = get("USER");
    assert_eq!(user.len(), 1);
    let uid = user[0].split(':').next().expect("uid");
    assert!(uid != "0" && uid != "root", "runs as {uid}");
    assert_eq!(get("VOLUME"), ["[\"/var/lib/mykey-connect\"]"]);
    assert_eq!(get("EXPOSE"), ["8080"]);
    let env = get("ENV").join(" ");
    assert!(env.contains("MYKEY_LISTEN=0.0.0.0:8080"), "{env}");
    assert_eq!(get("ENTRYPOINT"), ["[\"/usr/bin/mykey-connect\"]"]);
    assert!(
        run.iter().any(|(k, r)| k == "COPY"
            && r == "--from=build /usr/local/bin/mykey-connect /usr/bin/mykey-connect"),
        "the binary comes from the build stage"
    );
    let health = get("HEALTHCHECK");
    assert_eq!(health.len(), 1);
    assert!(
        health[0].ends_with("CMD [\"/usr/bin/mykey-connect\", \"healthcheck\"]"),
        "{}",
        health[0]
    );

    // The health check's command is one the binary has.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_mykey-connect"))
        .args(["healthcheck", "--help"])
        .output()
        .expect("run");
    assert!(
        help.status.success(),
        "{}",
        String::from_utf8_lossy(&help.stderr)
    );

    // What the image copies from the context exists, and the default settings keep the
    // database in the volume.
    for (k, r) in run.iter().chain(build) {
        if k == "COPY" && !r.starts_with("--from") && r != ". ." {
            let source = r.split_whitespace().next().expect("source");
            assert!(repo().join(source).is_file(), "{source}");
        }
    }
    let config = std::fs::read_to_string(repo().join("packaging/config.toml")).expect("config");
    assert!(config.contains("database_url = \"sqlite:///var/lib/mykey-connect/mykey.sqlite3\""));
}

#[test]
fn the_build_context_leaves_out_build_output_and_databases() {
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    let lines: Vec<&str> = ignore.lines().map(str::trim).collect();
    for want in ["target/", ".git/", "*.sqlite3", "*.kek"] {
        assert!(lines.contains(&want), "{want} in .dockerignore");
    }
    for kept in [
        "Cargo.lock",
        "migrations",
        "packaging/config.toml",
        "benches",
    ] {
        assert!(
            !lines
                .iter()
                .any(|l| kept.starts_with(l.trim_end_matches('/'))),
            "{kept} must stay in the context"
        );
    }
}
