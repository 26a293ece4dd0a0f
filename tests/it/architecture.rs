//! The crate's module graph, read from the source: every `crate::…` path a module names must
//! point at its own module or at a lower layer (core ← store ← audit ← provider ← admin and the
//! test kit ← web, cli and the helper ← demo), and the web layer reaches the database only
//! through the provider and admin operations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its layer. A module may name only modules of a lower
/// layer (and itself); two modules of one layer do not know each other.
const LAYERS: &[(&str, u8)] = &[
    // Pure rules and formats.
    ("domain", 0),
    ("clock", 0),
    ("jose", 0),
    ("card", 0),
    ("oidc", 1),
    ("config", 1),
    ("store", 2),
    ("audit", 3),
    // The application: flows, grants, sessions, revocation.
    ("provider", 4),
    // Operators' audited operations.
    ("admin", 5),
    // Test tools (a test CA, cards, CRLs): above the provider, so that nothing the provider
    // runs in production leans on them.
    ("testkit", 5),
    // The front doors: HTTP, the operator's command line, and the resident's helper.
    ("web", 6),
    ("cli", 6),
    ("helper", 6),
    // Wires a whole deployment together for a demonstration.
    ("demo", 7),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to; `None` for the crate root and binaries,
/// which only wire things together.
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    match first.as_str() {
        "lib.rs" | "main.rs" | "bin" => None,
        f => Some(f.trim_end_matches(".rs").to_owned()),
    }
}

/// The source without comments: `//` to the end of the line, unless it follows a `:` (a URL in
/// a string).
fn code_of(text: &str) -> String {
    text.lines()
        .map(|line| {
            let bytes = line.as_bytes();
            let cut = (0..bytes.len().saturating_sub(1)).find(|&i| {
                bytes[i] == b'/' && bytes[i + 1] == b'/' && (i == 0 || bytes[i - 1] != b':')
            });
            match cut {
                Some(i) => &line[..i],
                None => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::x` or `use crate::{x, y::z}`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let preceded = rest[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        rest = &rest[i + "crate::".len()..];
        if preceded {
            continue; // `mykey_crate::`, not a path of this crate
        }
        let rest_trim = rest.trim_start();
        if let Some(group) = rest_trim.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && (c.is_ascii_alphabetic() || c == '_') && depth == 1 => {
                        item_start = false;
                        let name = ident_at(&group[j..]);
                        if name != "self" {
                            out.insert(name.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest_trim);
            if !name.is_empty() {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

#[test]
fn no_module_names_a_module_of_its_own_or_a_higher_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut arrows = Vec::new();
    for file in &files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let own = layer(&module)
            .unwrap_or_else(|| panic!("src/{module} is not in the layer table of this test"));
        let code = code_of(&std::fs::read_to_string(file).expect("read"));
        for target in named_modules(&code) {
            if target == module {
                continue;
            }
            match layer(&target) {
                Some(l) if l < own => {}
                // Not a module (a macro or item at the crate root, e.g. `crate::store!`).
                None => {}
                Some(_) => arrows.push(format!(
                    "{} → {target}",
                    file.strip_prefix(src()).unwrap_or(file).display()
                )),
            }
        }
    }
    assert!(
        arrows.is_empty(),
        "arrows from a lower (or the same) layer to a higher one:\n{}",
        arrows.join("\n")
    );
}

/// `x.db`, the provider's database handle, in any use (`p.db.read`, `&p.db`, `p.db.clone()`).
fn names_db_field(line: &str) -> bool {
    line.match_indices(".db").any(|(i, _)| {
        !line[i + 3..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[test]
fn the_web_layer_reaches_the_database_only_through_the_provider() {
    let mut files = Vec::new();
    rust_files(&src().join("web"), &mut files);
    let mut found = Vec::new();
    for file in &files {
        let code = code_of(&std::fs::read_to_string(file).expect("read"));
        for (n, line) in code.lines().enumerate() {
            if line.contains("store::") || line.contains("db::") || names_db_field(line) {
                found.push(format!(
                    "{}:{}: {}",
                    file.strip_prefix(src()).unwrap_or(file).display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "store access from src/web:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_graph_reader_sees_paths_groups_and_nested_groups() {
    let code = "use crate::store::{self, Db};\nuse crate::{audit, provider::{login, Provider}};\nlet x = crate::web::f(mykey_crate::y);";
    let named: Vec<String> = named_modules(code).into_iter().collect();
    assert_eq!(named, ["audit", "provider", "store", "web"]);
    assert!(names_db_field("let db = p.db.clone();") && names_db_field("f(&p.db)"));
    assert!(!names_db_field("let x = p.dbx; let y = p.db_url;"));
    assert_eq!(
        code_of("let u = \"https://x\"; // crate::web"),
        "let u = \"https://x\"; "
    );
}
