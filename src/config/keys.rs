//! Every setting's file key and environment variable, and how a value of each kind is read
//! from TOML and from the environment. One table: the file, the environment, `config check`
//! and the README's reference all follow it.

use std::collections::BTreeMap;

use super::Problem;

/// How a setting's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Text never printed (`config check` masks it).
    Secret,
    /// A database URL: printed with any password masked.
    DatabaseUrl,
    Path,
    /// A whole number of seconds.
    Seconds,
    /// A whole number.
    Count,
    Flag,
    /// A TOML array of strings; in the environment, items separated by commas or spaces.
    List,
}

/// One setting.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The file key; the environment variable is `MYKEY_` and this in capitals.
    pub name: &'static str,
    pub kind: Kind,
}

impl Key {
    pub fn env(&self) -> String {
        format!("MYKEY_{}", self.name.to_ascii_uppercase())
    }
}

const fn key(name: &'static str, kind: Kind) -> Key {
    Key { name, kind }
}

/// Every setting, in the order `config check` prints them.
pub const KEYS: &[Key] = &[
    key("issuer", Kind::Text),
    key("listen", Kind::Text),
    key("database_url", Kind::DatabaseUrl),
    key("database_pool_size", Kind::Count),
    key("postgres_asynchronous_token_commits", Kind::Flag),
    key("auth_roots", Kind::Path),
    key("sign_roots", Kind::Path),
    key("allow_test_cards", Kind::Flag),
    key("pairwise_key", Kind::Secret),
    key("key_encryption_key", Kind::Secret),
    key("code_ttl", Kind::Seconds),
    key("access_token_ttl", Kind::Seconds),
    key("id_token_ttl", Kind::Seconds),
    key("refresh_token_ttl", Kind::Seconds),
    key("session_ttl", Kind::Seconds),
    key("challenge_ttl", Kind::Seconds),
    key("key_rotation_interval", Kind::Seconds),
    key("key_rotation_lead", Kind::Seconds),
    key("code_key_rotation_interval", Kind::Seconds),
    key("revocation_stale_grace", Kind::Seconds),
    key("allow_missing_revocation_data", Kind::Flag),
    key("log_format", Kind::Text),
    key("workers", Kind::Count),
    key("crl_dir", Kind::Path),
    key("crl_urls", Kind::List),
    key("crl_poll_interval", Kind::Seconds),
    key("backchannel_retry_period", Kind::Seconds),
    key("backchannel_timeout", Kind::Seconds),
    key("verified_facts_retention", Kind::Seconds),
    key("audit_retention", Kind::Seconds),
    key("trusted_proxies", Kind::List),
    key("require_pushed_authorization_requests", Kind::Flag),
    key("pushed_request_ttl", Kind::Seconds),
    key("dpop_nonce_required", Kind::Flag),
];

/// `MYKEY_*` variables that are not settings of the provider but are expected around it.
const OTHER_VARIABLES: &[&str] = &["MYKEY_CONFIG", "MYKEY_LOG", "MYKEY_CARD"];

pub fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Environment,
    Default,
}

/// A value as read, before it becomes part of [`super::Settings`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Number(u64),
    Flag(bool),
    List(Vec<String>),
}

/// The values given in the file and the environment, and what was wrong with them.
#[derive(Debug, Default)]
pub struct Given {
    pub values: BTreeMap<&'static str, (Value, Source)>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
}

impl Given {
    /// Reads a TOML document: every key must be a setting, with a value of its kind.
    pub fn read_file(&mut self, text: &str) -> Result<(), String> {
        let table: BTreeMap<toml::Spanned<String>, toml::Value> =
            toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, value) in table {
            let line = line_of(text, name.span().start);
            let Some(key) = find(name.get_ref()) else {
                let mut message = format!("unknown key `{}` (line {line})", name.get_ref());
                if let Some(near) = closest(name.get_ref()) {
                    message.push_str(&format!("; did you mean `{near}`?"));
                }
                self.problems.push(Problem::file(message));
                continue;
            };
            match from_toml(key.kind, value) {
                Ok(v) => {
                    self.values.insert(key.name, (v, Source::File));
                }
                Err(expected) => self.problems.push(Problem::new(
                    key.name,
                    format!("must be {expected} (line {line})"),
                )),
            }
        }
        Ok(())
    }

    /// Applies `MYKEY_*` variables over the file. A `MYKEY_` name that is no setting is
    /// reported as a warning (a typo would otherwise go unnoticed), not refused: other tools
    /// read their own `MYKEY_*` variables.
    pub fn read_env(&mut self, env: &[(String, String)]) {
        for (var, text) in env {
            let Some(rest) = var.strip_prefix("MYKEY_") else {
                continue;
            };
            let Some(key) = find(&rest.to_ascii_lowercase()).filter(|k| k.env() == *var) else {
                if !OTHER_VARIABLES.contains(&var.as_str()) && !rest.starts_with("TEST_") {
                    let mut warning = format!("{var} is not a setting and is ignored");
                    if let Some(near) = closest(&rest.to_ascii_lowercase()) {
                        warning.push_str(&format!(
                            "; did you mean {}?",
                            Key {
                                name: near,
                                kind: Kind::Text
                            }
                            .env()
                        ));
                    }
                    self.warnings.push(warning);
                }
                continue;
            };
            match from_env(key.kind, text) {
                Ok(v) => {
                    self.values.insert(key.name, (v, Source::Environment));
                }
                Err(expected) => self
                    .problems
                    .push(Problem::new(key.name, format!("{var} must be {expected}"))),
            }
        }
    }
}

fn from_toml(kind: Kind, value: toml::Value) -> Result<Value, &'static str> {
    use toml::Value as T;
    match (kind, value) {
        (Kind::Text | Kind::Secret | Kind::DatabaseUrl | Kind::Path, T::String(s)) => {
            Ok(Value::Text(s))
        }
        (Kind::Seconds | Kind::Count, T::Integer(n)) if n >= 0 => Ok(Value::Number(n as u64)),
        (Kind::Flag, T::Boolean(b)) => Ok(Value::Flag(b)),
        (Kind::List, T::Array(items)) => items
            .into_iter()
            .map(|i| match i {
                T::String(s) => Ok(s),
                _ => Err(expected(kind)),
            })
            .collect::<Result<_, _>>()
            .map(Value::List),
        _ => Err(expected(kind)),
    }
}

fn from_env(kind: Kind, text: &str) -> Result<Value, &'static str> {
    match kind {
        Kind::Text | Kind::Secret | Kind::DatabaseUrl | Kind::Path => {
            Ok(Value::Text(text.to_owned()))
        }
        Kind::Seconds | Kind::Count => text
            .trim()
            .parse()
            .map(Value::Number)
            .map_err(|_| expected(kind)),
        Kind::Flag => match text.trim() {
            "1" | "true" | "yes" => Ok(Value::Flag(true)),
            "0" | "false" | "no" => Ok(Value::Flag(false)),
            _ => Err(expected(kind)),
        },
        Kind::List => Ok(Value::List(
            text.split([',', ' '])
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect(),
        )),
    }
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Text | Kind::Secret | Kind::DatabaseUrl => "a string",
        Kind::Path => "a path (a string)",
        Kind::Seconds => "a whole number of seconds",
        Kind::Count => "a whole number",
        Kind::Flag => "true or false",
        Kind::List => "a list of strings",
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |t| t.matches('\n').count()) + 1
}

/// The setting whose name is nearest to a misspelt one (at most two edits away).
fn closest(name: &str) -> Option<&'static str> {
    KEYS.iter()
        .map(|k| (edit_distance(name, k.name), k.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let keep = prev + usize::from(ca != *cb);
            prev = row[j + 1];
            row[j + 1] = keep.min(row[j] + 1).min(prev + 1);
        }
    }
    row[b.len()]
}
