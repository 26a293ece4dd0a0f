//! CRLs of the J-LIS roots: checked against the trust store, entries read as a stream.
//!
//! A J-LIS CRL can list a million certificates. x509-parser would materialise every entry,
//! so the CertificateList (RFC 5280 §5.1) is walked with the crate's DER reader: the header
//! and extensions are checked up front, the entries are decoded one at a time on demand.

mod entries;
mod number;

use time::OffsetDateTime;

use super::certificate::authority_key_id;
use super::der::{self, DerError, Reader, TAG_CONTEXT_0, TAG_INTEGER, TAG_SEQUENCE};
use super::jpki::Purpose;
use super::oids;
use super::trust::TrustStore;

pub use entries::{CrlEntries, CrlEntry};
pub use number::{CrlNumber, CrlNumberError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    #[error("not a DER CRL: {0}")]
    Garbage(#[from] DerError),
    #[error("the CRL is not signed with sha256WithRSAEncryption")]
    UnsupportedAlgorithm,
    #[error("no configured root issued this CRL")]
    UnknownIssuer,
    #[error("the CRL names a configured root but its signature does not verify")]
    BadSignature,
    #[error("the CRL issuer name differs from the subject of root {root_key_id}")]
    IssuerMismatch { root_key_id: String },
    #[error("the CRL is not a version 2 CRL")]
    NotV2,
    #[error("the CRL has no cRLNumber extension")]
    MissingCrlNumber,
    #[error("the CRL has no nextUpdate")]
    MissingNextUpdate,
    #[error("the CRL's nextUpdate is before its thisUpdate")]
    UpdatesOutOfOrder,
    #[error("the CRL has a critical extension {oid} this verifier does not process")]
    UnsupportedCriticalExtension { oid: String },
    #[error("entry {index}: the serial number is longer than 20 octets")]
    SerialTooLong { index: usize },
    #[error("entry {index}: {what}")]
    BadEntry { index: usize, what: &'static str },
    #[error("CRL number {got} is lower than the loaded CRL number {have}: refusing to roll back")]
    RolledBack { have: CrlNumber, got: CrlNumber },
    #[error("CRL number {number} is already loaded")]
    NotNewer { number: CrlNumber },
}

/// What a checked CRL says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlInfo {
    /// [`super::jpki::key_id`] of the root that signed it.
    pub root_key_id: String,
    /// The purpose of that root: which certificates the CRL covers.
    pub purpose: Purpose,
    pub crl_number: CrlNumber,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub entry_count: usize,
}

/// A CRL whose signature, issuer and header have been checked; entries are read on demand.
#[derive(Debug, Clone)]
pub struct Crl<'a> {
    info: CrlInfo,
    /// Contents of revokedCertificates (empty when absent).
    revoked: Reader<'a>,
}

impl<'a> Crl<'a> {
    /// Parses and checks a DER CRL: signed (sha256WithRSAEncryption) by a root of `trust`
    /// found by authorityKeyIdentifier or by trying each key, issuer equal to that root's
    /// subject, version 2, a cRLNumber, thisUpdate ≤ nextUpdate, no unknown critical extension.
    pub fn parse(der: &'a [u8], trust: &TrustStore) -> Result<Crl<'a>, CrlError> {
        let mut outer = Reader::new(der);
        let list = outer.expect(TAG_SEQUENCE, "CertificateList")?;
        outer.finish("bytes after the CertificateList")?;
        let mut parts = list.reader();
        let tbs = parts.expect(TAG_SEQUENCE, "tbsCertList")?;
        let outer_algorithm = parts.expect(TAG_SEQUENCE, "signatureAlgorithm")?;
        let signature = parts.expect(der::TAG_BIT_STRING, "signatureValue")?;
        parts.finish("bytes after signatureValue")?;
        let signature = match signature.value.split_first() {
            Some((0, bits)) => bits,
            _ => return Err(parts.error("signatureValue has unused bits").into()),
        };

        let mut fields = tbs.reader();
        let version = fields.optional(TAG_INTEGER)?;
        let inner_algorithm = fields.expect(TAG_SEQUENCE, "signature")?;
        let issuer = fields.expect(TAG_SEQUENCE, "issuer")?;
        let this_update = read_time(&mut fields, "thisUpdate")?;
        let next_update = match fields.peek_tag() {
            Some(der::TAG_UTC_TIME | der::TAG_GENERALIZED_TIME) => {
                Some(read_time(&mut fields, "nextUpdate")?)
            }
            _ => None,
        };
        let revoked = fields.optional(TAG_SEQUENCE)?;
        let extensions = fields.optional(TAG_CONTEXT_0)?;
        fields.finish("bytes after crlExtensions")?;

        // RFC 5280 §5.1.1.2: both algorithm identifiers must be the same.
        if !is_sha256_with_rsa(&outer_algorithm) || inner_algorithm.raw != outer_algorithm.raw {
            return Err(CrlError::UnsupportedAlgorithm);
        }
        let header = CrlExtensions::read(extensions)?;
        let root = trust
            .issuer_of(header.authority_key_id, None, tbs.raw, signature)
            .ok_or_else(|| {
                let named = header
                    .authority_key_id
                    .is_some_and(|aki| trust.has_key_identifier(aki));
                if named {
                    CrlError::BadSignature
                } else {
                    CrlError::UnknownIssuer
                }
            })?;
        if issuer.raw != root.subject_der() {
            return Err(CrlError::IssuerMismatch {
                root_key_id: root.key_id().to_owned(),
            });
        }
        // RFC 5280 §5.1.2.1: v2 is INTEGER 1; an absent version means v1.
        if version.and_then(|v| der::small_unsigned(&v)) != Some(1) {
            return Err(CrlError::NotV2);
        }
        let crl_number = header.crl_number.ok_or(CrlError::MissingCrlNumber)?;
        let next_update = next_update.ok_or(CrlError::MissingNextUpdate)?;
        if next_update < this_update {
            return Err(CrlError::UpdatesOutOfOrder);
        }
        let revoked = revoked
            .map(|r| r.reader())
            .unwrap_or_else(|| Reader::new(&[]));
        let entry_count = count_elements(revoked.clone())?;
        Ok(Crl {
            info: CrlInfo {
                root_key_id: root.key_id().to_owned(),
                purpose: root.purpose(),
                crl_number,
                this_update,
                next_update,
                entry_count,
            },
            revoked,
        })
    }

    pub fn info(&self) -> &CrlInfo {
        &self.info
    }

    /// The revoked certificates, decoded one at a time; stops after the first bad entry.
    pub fn entries(&self) -> CrlEntries<'a> {
        CrlEntries::new(self.revoked.clone())
    }
}

/// The CRL extensions we act on (RFC 5280 §5.2).
struct CrlExtensions<'a> {
    authority_key_id: Option<&'a [u8]>,
    crl_number: Option<CrlNumber>,
}

impl<'a> CrlExtensions<'a> {
    fn read(explicit: Option<der::Tlv<'a>>) -> Result<CrlExtensions<'a>, CrlError> {
        let mut found = CrlExtensions {
            authority_key_id: None,
            crl_number: None,
        };
        let Some(explicit) = explicit else {
            return Ok(found);
        };
        let mut wrapper = explicit.reader();
        let list = wrapper.expect(TAG_SEQUENCE, "crlExtensions")?;
        wrapper.finish("bytes after crlExtensions")?;
        let mut list = list.reader();
        let (mut seen_aki, mut seen_number) = (false, false);
        while !list.is_empty() {
            let ext = Extension::read(&mut list)?;
            if ext.oid == oids::AUTHORITY_KEY_IDENTIFIER {
                if std::mem::replace(&mut seen_aki, true) {
                    return Err(list.error("authorityKeyIdentifier twice").into());
                }
                found.authority_key_id = authority_key_id(ext.value)?;
            } else if ext.oid == oids::CRL_NUMBER {
                if std::mem::replace(&mut seen_number, true) {
                    return Err(list.error("cRLNumber twice").into());
                }
                let mut value = Reader::new(ext.value);
                let number = value.expect(TAG_INTEGER, "cRLNumber")?;
                value.finish("bytes after cRLNumber")?;
                let magnitude =
                    der::unsigned_integer(&number).ok_or(value.error("negative cRLNumber"))?;
                found.crl_number = Some(CrlNumber::from_be_bytes(magnitude));
            } else if ext.critical {
                // RFC 5280 §5.2: a CRL with a critical extension we cannot process must not be
                // used (this refuses delta CRLs and partitioned ones: deltaCRLIndicator and
                // issuingDistributionPoint are critical).
                return Err(CrlError::UnsupportedCriticalExtension {
                    oid: dotted(ext.oid),
                });
            }
        }
        Ok(found)
    }
}

/// One Extension (RFC 5280 §4.1): SEQUENCE { extnID, critical DEFAULT FALSE, extnValue }.
pub(crate) struct Extension<'a> {
    pub oid: &'a [u8],
    pub critical: bool,
    pub value: &'a [u8],
}

impl<'a> Extension<'a> {
    pub(crate) fn read(list: &mut Reader<'a>) -> Result<Extension<'a>, DerError> {
        let seq = list.expect(TAG_SEQUENCE, "Extension")?;
        let mut fields = seq.reader();
        let oid = fields.expect(der::TAG_OID, "extnID")?.value;
        let critical = match fields.optional(der::TAG_BOOLEAN)? {
            Some(b) if b.value == [0xFF] => true,
            // X.690 §11.5: DER leaves a DEFAULT FALSE out.
            Some(_) => return Err(fields.error("critical must be TRUE when present")),
            None => false,
        };
        let value = fields.expect(der::TAG_OCTET_STRING, "extnValue")?.value;
        fields.finish("bytes after extnValue")?;
        Ok(Extension {
            oid,
            critical,
            value,
        })
    }
}

pub(crate) fn dotted(oid: &[u8]) -> String {
    x509_parser::der_parser::oid::Oid::new(oid.into()).to_id_string()
}

fn read_time(fields: &mut Reader<'_>, what: &'static str) -> Result<OffsetDateTime, DerError> {
    let tlv = fields.read()?;
    der::time(&tlv).ok_or(fields.error(what))
}

fn is_sha256_with_rsa(algorithm: &der::Tlv<'_>) -> bool {
    let mut fields = algorithm.reader();
    let oid_ok = fields
        .expect(der::TAG_OID, "algorithm")
        .is_ok_and(|oid| oid.value == oids::SHA256_WITH_RSA);
    // RFC 4055 §5: parameters NULL (or absent, which some encoders write).
    let params_ok = match fields.optional(der::TAG_NULL) {
        Ok(Some(null)) => null.value.is_empty(),
        Ok(None) => true,
        Err(_) => false,
    };
    oid_ok && params_ok && fields.is_empty()
}

fn count_elements(mut list: Reader<'_>) -> Result<usize, DerError> {
    let mut count = 0;
    while !list.is_empty() {
        list.read()?;
        count += 1;
    }
    Ok(count)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
