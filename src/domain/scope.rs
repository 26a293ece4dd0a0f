//! OAuth scopes (RFC 6749 §3.3): a set of space-separated tokens.

use std::collections::BTreeSet;

/// A parsed scope value; keeps tokens sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`; `None` when a token breaks that.
    pub fn parse(s: &str) -> Option<Scope> {
        let mut set = BTreeSet::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            let ok = token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !ok {
                return None;
            }
            set.insert(token.to_owned());
        }
        Some(Scope(set))
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Tokens of `self` that `allowed` also has.
    pub fn intersect(&self, allowed: &Scope) -> Scope {
        Scope(self.0.intersection(&allowed.0).cloned().collect())
    }

    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for t in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(t)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_a_set_whatever_the_order_or_spacing() {
        let a = Scope::parse("openid  profile openid").expect("valid");
        let b = Scope::parse("profile openid").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "openid profile");
    }

    #[test]
    fn quotes_and_backslashes_are_not_scope_characters() {
        assert!(Scope::parse("open\"id").is_none());
        assert!(Scope::parse("a\\b").is_none());
    }
}
