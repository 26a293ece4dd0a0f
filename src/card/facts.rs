//! The four basic facts (基本4情報) carried by a signature certificate's subjectAltName.
//!
//! Each fact is an `otherName` whose value is a UTF8String under `[0] EXPLICIT`
//! (reference/jpki.md, "Certificates"); the type ids are in [`super::jpki::oid`].

use super::certificate::CardCertificate;
use super::der::{Reader, TAG_CONTEXT_0, TAG_OID, TAG_SEQUENCE, TAG_UTF8_STRING};
use super::oids;

pub use super::birthdate::{Birthdate, Era};

/// Ideographic space: JPKI separates family and given name with it when both are known.
const NAME_SEPARATOR: char = '\u{3000}';

/// Why the basic facts could not be read. Never carries the facts themselves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FactsError {
    #[error("not a readable certificate")]
    NotACertificate,
    #[error("the certificate has no subjectAltName")]
    NoSubjectAltName,
    #[error("the subjectAltName is not valid DER")]
    Malformed,
    #[error("the {0} otherName is missing")]
    Missing(&'static str),
    #[error("the {0} otherName appears twice")]
    Repeated(&'static str),
    #[error("the {0} otherName is not a UTF8String under [0] EXPLICIT")]
    NotUtf8String(&'static str),
    #[error("the date of birth is not EYYYYMMDD with a possible date")]
    Birthdate,
    #[error("the sex code is not 1, 2, 3 or 9")]
    Sex,
}

/// Sex as recorded on the card: 1 male, 2 female, 3 unknown; the card-info AP writes 9
/// (ISO/IEC 5218) for unknown, accepted here too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

impl Sex {
    pub fn parse(code: &str) -> Result<Sex, FactsError> {
        match code {
            "1" => Ok(Sex::Male),
            "2" => Ok(Sex::Female),
            "3" | "9" => Ok(Sex::Unknown),
            _ => Err(FactsError::Sex),
        }
    }

    /// The OIDC Core §5.1 `gender` value; `None` when unknown, so the claim is left out.
    pub fn oidc_gender(self) -> Option<&'static str> {
        match self {
            Sex::Male => Some("male"),
            Sex::Female => Some("female"),
            Sex::Unknown => None,
        }
    }
}

/// The verified name, address, date of birth and sex of a signature certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicFacts {
    /// The full name exactly as on the card.
    pub name: String,
    /// The part before U+3000, when the name has one.
    pub name_family: Option<String>,
    /// The part after the first U+3000, when the name has one.
    pub name_given: Option<String>,
    /// Some character of the name is a substitute glyph (外字) per the name's map.
    pub name_uses_substitutes: bool,
    /// The address from the prefecture on, exactly as on the card (full-width digits kept).
    pub address: String,
    pub address_uses_substitutes: bool,
    pub birthdate: Birthdate,
    pub sex: Sex,
}

impl std::fmt::Debug for BasicFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data: keep it out of logs and panic messages.
        f.write_str("BasicFacts([redacted])")
    }
}

impl BasicFacts {
    /// Reads the facts of a DER signature certificate (without verifying it).
    pub fn from_certificate_der(der: &[u8]) -> Result<BasicFacts, FactsError> {
        let cert = CardCertificate::parse(der).map_err(|_| FactsError::NotACertificate)?;
        BasicFacts::from_subject_alt_name(cert.subject_alt_name)
    }

    /// Reads the facts from a subjectAltName extnValue (GeneralNames, RFC 5280 §4.2.1.6).
    pub(crate) fn from_subject_alt_name(value: Option<&[u8]>) -> Result<BasicFacts, FactsError> {
        let value = value.ok_or(FactsError::NoSubjectAltName)?;
        let mut found: [Option<&str>; 6] = [None; 6];
        let mut outer = Reader::new(value);
        let names = outer
            .expect(TAG_SEQUENCE, "GeneralNames")
            .map_err(|_| FactsError::Malformed)?;
        outer
            .finish("trailing bytes")
            .map_err(|_| FactsError::Malformed)?;
        let mut list = names.reader();
        while !list.is_empty() {
            let general_name = list.read().map_err(|_| FactsError::Malformed)?;
            // otherName [0] IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
            if general_name.tag != TAG_CONTEXT_0 {
                continue;
            }
            let mut other = general_name.reader();
            let type_id = other
                .expect(TAG_OID, "type-id")
                .map_err(|_| FactsError::Malformed)?;
            let Some(index) = fact_index(type_id.value) else {
                continue;
            };
            let label = FACT_LABELS[index];
            let text = explicit_utf8(&mut other).ok_or(FactsError::NotUtf8String(label))?;
            if found[index].replace(text).is_some() {
                return Err(FactsError::Repeated(label));
            }
        }
        let required = |arc: u8| {
            let i = usize::from(arc - 1);
            found[i].ok_or(FactsError::Missing(FACT_LABELS[i]))
        };
        // A map has one `0`/`1` per character; `1` marks a substitute glyph.
        let uses_substitutes =
            |arc: u8| found[usize::from(arc - 1)].is_some_and(|map| map.contains('1'));
        let name = required(oids::FACT_NAME)?;
        let (name_family, name_given) = match name.split_once(NAME_SEPARATOR) {
            Some((family, given)) => (Some(family.to_owned()), Some(given.to_owned())),
            None => (None, None),
        };
        Ok(BasicFacts {
            name: name.to_owned(),
            name_family,
            name_given,
            name_uses_substitutes: uses_substitutes(oids::FACT_NAME_MAP),
            sex: Sex::parse(required(oids::FACT_SEX)?)?,
            birthdate: Birthdate::parse(required(oids::FACT_BIRTH)?)
                .map_err(|_| FactsError::Birthdate)?,
            address: required(oids::FACT_ADDRESS)?.to_owned(),
            address_uses_substitutes: uses_substitutes(oids::FACT_ADDRESS_MAP),
        })
    }
}

/// Fact names in the order of their OID arcs 1..=6 (1.2.392.200149.8.5.5.N).
const FACT_LABELS: [&str; 6] = [
    "name",
    "name substitute map",
    "sex",
    "date of birth",
    "address",
    "address substitute map",
];

fn fact_index(type_id: &[u8]) -> Option<usize> {
    let arc = type_id.strip_prefix(oids::FACT_PREFIX)?;
    match arc {
        [n @ oids::FACT_NAME..=oids::FACT_ADDRESS_MAP] => Some(usize::from(*n - 1)),
        _ => None,
    }
}

fn explicit_utf8<'a>(other: &mut Reader<'a>) -> Option<&'a str> {
    let explicit = other.expect(TAG_CONTEXT_0, "value").ok()?;
    other.finish("trailing bytes").ok()?;
    let mut inner = explicit.reader();
    let string = inner.expect(TAG_UTF8_STRING, "UTF8String").ok()?;
    inner.finish("trailing bytes").ok()?;
    std::str::from_utf8(string.value).ok()
}

#[cfg(test)]
#[path = "facts_tests.rs"]
mod tests;
