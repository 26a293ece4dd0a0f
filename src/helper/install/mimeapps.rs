//! `mimeapps.list` (freedesktop.org MIME Applications Associations): setting and removing the
//! default application of one MIME type, leaving every other line as it was.

const DEFAULTS: &str = "[Default Applications]";

/// `text` with `desktop` as the default for `mime`.
pub fn with_default(text: &str, mime: &str, desktop: &str) -> String {
    let entry = format!("{mime}={desktop};");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    match section(&lines) {
        Some((start, end)) => match (start + 1..end).find(|&i| key_of(&lines[i]) == Some(mime)) {
            Some(i) => lines[i] = entry,
            None => lines.insert(start + 1, entry),
        },
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(DEFAULTS.to_owned());
            lines.push(entry);
        }
    }
    joined(lines)
}

/// `text` without `desktop` in the default for `mime`; `None` when it is not there (the
/// default belongs to another program, or there is none).
pub fn without_default(text: &str, mime: &str, desktop: &str) -> Option<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let (start, end) = section(&lines)?;
    let i = (start + 1..end).find(|&i| key_of(&lines[i]) == Some(mime))?;
    let value = lines[i].split_once('=').map(|(_, v)| v.to_owned())?;
    let apps: Vec<&str> = value
        .split(';')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    if !apps.contains(&desktop) {
        return None;
    }
    let rest: Vec<&str> = apps.into_iter().filter(|a| *a != desktop).collect();
    if rest.is_empty() {
        lines.remove(i);
    } else {
        lines[i] = format!("{mime}={};", rest.join(";"));
    }
    Some(joined(lines))
}

/// The first default application of `mime`.
pub fn default_of(text: &str, mime: &str) -> Option<String> {
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let (start, end) = section(&lines)?;
    let line = (start + 1..end)
        .map(|i| &lines[i])
        .find(|l| key_of(l) == Some(mime))?;
    let (_, value) = line.split_once('=')?;
    value
        .split(';')
        .map(str::trim)
        .find(|a| !a.is_empty())
        .map(str::to_owned)
}

/// Whether the file still says anything: a key in any section.
pub fn has_entries(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
}

/// The `[Default Applications]` section: its header line and the line after its end.
fn section(lines: &[String]) -> Option<(usize, usize)> {
    let start = lines.iter().position(|l| l.trim() == DEFAULTS)?;
    let end = (start + 1..lines.len())
        .find(|&i| lines[i].trim_start().starts_with('['))
        .unwrap_or(lines.len());
    Some((start, end))
}

fn key_of(line: &str) -> Option<&str> {
    line.split_once('=').map(|(key, _)| key.trim())
}

fn joined(lines: Vec<String>) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIME: &str = "x-scheme-handler/mykey";
    const OURS: &str = "mykey-helper.desktop";

    #[test]
    fn a_default_is_added_to_an_empty_file_and_replaces_an_older_one() {
        let added = with_default("", MIME, OURS);
        assert_eq!(
            added,
            "[Default Applications]\nx-scheme-handler/mykey=mykey-helper.desktop;\n"
        );
        let replaced = with_default(
            "[Default Applications]\nx-scheme-handler/mykey=other.desktop\n",
            MIME,
            OURS,
        );
        assert_eq!(default_of(&replaced, MIME).as_deref(), Some(OURS));
        assert_eq!(replaced.matches("x-scheme-handler/mykey").count(), 1);
    }

    #[test]
    fn other_sections_and_defaults_are_kept() {
        let before = "[Added Associations]\ntext/plain=gedit.desktop;\n\n[Default Applications]\nx-scheme-handler/https=firefox.desktop\n";
        let after = with_default(before, MIME, OURS);
        assert!(after.contains("[Added Associations]\ntext/plain=gedit.desktop;\n"));
        assert_eq!(
            default_of(&after, "x-scheme-handler/https").as_deref(),
            Some("firefox.desktop")
        );
        assert_eq!(default_of(&after, MIME).as_deref(), Some(OURS));
        assert_eq!(without_default(&after, MIME, OURS).as_deref(), Some(before));
    }

    #[test]
    fn only_our_default_is_removed() {
        let theirs = "[Default Applications]\nx-scheme-handler/mykey=other.desktop;\n";
        assert_eq!(without_default(theirs, MIME, OURS), None);
        let both =
            "[Default Applications]\nx-scheme-handler/mykey=mykey-helper.desktop;other.desktop;\n";
        assert_eq!(
            without_default(both, MIME, OURS).as_deref(),
            Some("[Default Applications]\nx-scheme-handler/mykey=other.desktop;\n")
        );
        assert_eq!(without_default("", MIME, OURS), None);
    }

    #[test]
    fn a_file_left_with_headers_only_has_no_entries() {
        let written = with_default("", MIME, OURS);
        let emptied = without_default(&written, MIME, OURS).expect("ours");
        assert!(has_entries(&written));
        assert!(!has_entries(&emptied));
    }
}
