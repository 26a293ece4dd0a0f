//! Which of the four basic facts a request asks for (scopes, or the `claims` parameter of
//! OIDC Core §5.5 with OpenID Connect for Identity Assurance `verified_claims`), and how
//! they are released.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::domain::Scope;

/// The trust framework of the JPKI signature-certificate method (犯罪収益移転防止法).
pub const TRUST_FRAMEWORK: &str = "jp_aml";
/// Evidence type and the (unregistered) signature type we name it with.
pub const EVIDENCE_TYPE: &str = "electronic_signature";
pub const SIGNATURE_TYPE: &str = "jpki";
/// Claim listing which released claims contain substitute glyphs (外字).
pub const SUBSTITUTE_CLAIM: &str = "urn:mykey-connect:claims:substitute_characters";

/// The scopes the Digital Authentication App uses for the four facts.
pub const FACT_SCOPES: [&str; 4] = ["name", "address", "birthdate", "gender"];

/// One releasable fact claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    Name,
    FamilyName,
    GivenName,
    Address,
    Birthdate,
    Gender,
}

impl Fact {
    pub const ALL: [Fact; 6] = [
        Fact::Name,
        Fact::FamilyName,
        Fact::GivenName,
        Fact::Address,
        Fact::Birthdate,
        Fact::Gender,
    ];

    pub fn claim(self) -> &'static str {
        match self {
            Fact::Name => "name",
            Fact::FamilyName => "family_name",
            Fact::GivenName => "given_name",
            Fact::Address => "address",
            Fact::Birthdate => "birthdate",
            Fact::Gender => "gender",
        }
    }

    pub fn parse(claim: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.claim() == claim)
    }

    /// The facts a scope stands for.
    fn of_scope(scope: &str) -> &'static [Fact] {
        match scope {
            "name" => &[Fact::Name, Fact::FamilyName, Fact::GivenName],
            "address" => &[Fact::Address],
            "birthdate" => &[Fact::Birthdate],
            "gender" => &[Fact::Gender],
            _ => &[],
        }
    }
}

/// What a request asks to be released where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactRequest {
    pub userinfo_verified: BTreeSet<Fact>,
    pub id_token_verified: BTreeSet<Fact>,
    pub userinfo_plain: BTreeSet<Fact>,
    pub id_token_plain: BTreeSet<Fact>,
    /// Some requested fact is marked essential: no login without it.
    pub essential: bool,
}

impl FactRequest {
    pub fn is_empty(&self) -> bool {
        self.all().is_empty()
    }

    /// Every fact asked for, wherever.
    pub fn all(&self) -> BTreeSet<Fact> {
        let mut all = self.userinfo_verified.clone();
        all.extend(&self.id_token_verified);
        all.extend(&self.userinfo_plain);
        all.extend(&self.id_token_plain);
        all
    }
}

/// Whether the scope asks for any fact (a client not allowed to gets `invalid_scope`).
pub fn scope_asks_for_facts(scope: &Scope) -> bool {
    FACT_SCOPES.iter().any(|s| scope.contains(s))
}

/// Reads the fact requests of a scope and a `claims` parameter.
pub fn requested_facts(scope: &Scope, claims: Option<&Value>) -> FactRequest {
    let mut r = FactRequest::default();
    for s in FACT_SCOPES {
        if scope.contains(s) {
            // Scope-requested facts are voluntary (OIDC Core §5.4) and verified here.
            r.userinfo_verified.extend(Fact::of_scope(s));
        }
    }
    let Some(claims) = claims else {
        return r;
    };
    for (target, verified, plain) in [
        ("userinfo", &mut r.userinfo_verified, &mut r.userinfo_plain),
        ("id_token", &mut r.id_token_verified, &mut r.id_token_plain),
    ] {
        let Some(section) = claims.get(target).and_then(Value::as_object) else {
            continue;
        };
        for (name, spec) in section {
            if let Some(fact) = Fact::parse(name) {
                plain.insert(fact);
                r.essential |= is_essential(spec);
            }
        }
        let requests: Vec<&Value> = match section.get("verified_claims") {
            Some(Value::Array(list)) => list.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            _ => Vec::new(),
        };
        for request in requests {
            if !accepts_jp_aml(request) {
                continue;
            }
            if let Some(wanted) = request.get("claims").and_then(Value::as_object) {
                for (name, spec) in wanted {
                    if let Some(fact) = Fact::parse(name) {
                        verified.insert(fact);
                        r.essential |= is_essential(spec);
                    }
                }
            }
        }
    }
    r
}

fn is_essential(spec: &Value) -> bool {
    spec.get("essential")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// A `verification.trust_framework` constraint this provider can meet (OIDC4IDA §6.4).
fn accepts_jp_aml(request: &Value) -> bool {
    let Some(tf) = request
        .get("verification")
        .and_then(|v| v.get("trust_framework"))
    else {
        return true;
    };
    if let Some(v) = tf.get("value").and_then(Value::as_str) {
        return v == TRUST_FRAMEWORK;
    }
    if let Some(values) = tf.get("values").and_then(Value::as_array) {
        return values.iter().any(|v| v.as_str() == Some(TRUST_FRAMEWORK));
    }
    true
}

/// The fact values of one verification, as released claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FactValues {
    pub name: String,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub address: String,
    pub birthdate: Option<String>,
    /// `male`, `female` or `unknown` (JPKI sex code 1, 2, 3/9).
    pub gender: String,
    pub name_uses_substitutes: bool,
    pub address_uses_substitutes: bool,
}

/// Where the facts come from: the signature certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    /// The issuing CA's name.
    pub issuer: String,
    /// The signature certificate's serial, hex.
    pub serial_number: String,
    /// When the card signed (RFC 3339).
    pub created_at: String,
    /// When the provider verified it (RFC 3339).
    pub verified_at: String,
}

/// The claims object for `facts` restricted to `wanted`.
fn claims_for(facts: &FactValues, wanted: &BTreeSet<Fact>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut substituted = Vec::new();
    for fact in wanted {
        let value = match fact {
            Fact::Name => Some(json!(facts.name)),
            Fact::FamilyName => facts.family_name.as_ref().map(|v| json!(v)),
            Fact::GivenName => facts.given_name.as_ref().map(|v| json!(v)),
            Fact::Address => Some(json!({ "formatted": facts.address, "country": "JP" })),
            Fact::Birthdate => facts.birthdate.as_ref().map(|v| json!(v)),
            Fact::Gender => Some(json!(facts.gender)),
        };
        if let Some(v) = value {
            out.insert(fact.claim().to_owned(), v);
            let sub = match fact {
                Fact::Name | Fact::FamilyName | Fact::GivenName => facts.name_uses_substitutes,
                Fact::Address => facts.address_uses_substitutes,
                _ => false,
            };
            if sub {
                substituted.push(fact.claim());
            }
        }
    }
    if !substituted.is_empty() {
        out.insert(SUBSTITUTE_CLAIM.to_owned(), json!(substituted));
    }
    out
}

/// `verified_claims` (OIDC4IDA §5) for the wanted facts; `None` when nothing is wanted.
pub fn verified_claims(
    facts: &FactValues,
    evidence: &Evidence,
    wanted: &BTreeSet<Fact>,
) -> Option<Value> {
    if wanted.is_empty() {
        return None;
    }
    Some(json!({
        "verification": {
            "trust_framework": TRUST_FRAMEWORK,
            "time": evidence.verified_at,
            "evidence": [{
                "type": EVIDENCE_TYPE,
                "signature_type": SIGNATURE_TYPE,
                "issuer": evidence.issuer,
                "serial_number": evidence.serial_number,
                "created_at": evidence.created_at,
            }]
        },
        "claims": claims_for(facts, wanted),
    }))
}

/// The top-level (plain) claims for the wanted facts.
pub fn plain_claims(facts: &FactValues, wanted: &BTreeSet<Fact>) -> Map<String, Value> {
    claims_for(facts, wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_ask_for_verified_claims_in_userinfo() {
        let r = requested_facts(&Scope::parse("openid name birthdate").expect("scope"), None);
        assert!(r.userinfo_verified.contains(&Fact::Name));
        assert!(r.userinfo_verified.contains(&Fact::FamilyName));
        assert!(r.userinfo_verified.contains(&Fact::Birthdate));
        assert!(!r.userinfo_verified.contains(&Fact::Address));
        assert!(!r.essential);
    }

    #[test]
    fn the_claims_parameter_selects_verified_and_plain_claims_per_target() {
        let claims = json!({
            "id_token": {"verified_claims": {"verification": {"trust_framework": {"value": "jp_aml"}},
                                             "claims": {"address": {"essential": true}}}},
            "userinfo": {"gender": null,
                         "verified_claims": [{"verification": {"trust_framework": {"value": "eidas"}},
                                              "claims": {"name": null}}]}
        });
        let r = requested_facts(&Scope::parse("openid").expect("scope"), Some(&claims));
        assert_eq!(r.id_token_verified, BTreeSet::from([Fact::Address]));
        assert!(
            r.userinfo_verified.is_empty(),
            "another trust framework cannot be met"
        );
        assert_eq!(r.userinfo_plain, BTreeSet::from([Fact::Gender]));
        assert!(r.essential);
    }

    #[test]
    fn released_claims_name_the_evidence_and_flag_substitute_characters() {
        let facts = FactValues {
            name: "髙橋　一郎".into(),
            family_name: Some("髙橋".into()),
            given_name: Some("一郎".into()),
            address: "東京都千代田区永田町１－２".into(),
            birthdate: Some("1970-01".into()),
            gender: "male".into(),
            name_uses_substitutes: true,
            address_uses_substitutes: false,
        };
        let evidence = Evidence {
            issuer: "JPKI".into(),
            serial_number: "0a".into(),
            created_at: "2026-11-25T00:00:00Z".into(),
            verified_at: "2026-11-25T00:00:01Z".into(),
        };
        let v = verified_claims(
            &facts,
            &evidence,
            &BTreeSet::from([Fact::Name, Fact::Address]),
        )
        .expect("claims");
        assert_eq!(v["verification"]["trust_framework"], "jp_aml");
        assert_eq!(
            v["verification"]["evidence"][0]["type"],
            "electronic_signature"
        );
        assert_eq!(v["claims"]["name"], "髙橋　一郎");
        assert_eq!(
            v["claims"]["address"]["formatted"],
            "東京都千代田区永田町１－２"
        );
        assert_eq!(v["claims"][SUBSTITUTE_CLAIM], json!(["name"]));
        assert!(v["claims"].get("birthdate").is_none());
    }
}
