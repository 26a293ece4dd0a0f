//! The two self-signed test roots, with the J-LIS root profile and `O=JPKI-TEST` naming.

use time::OffsetDateTime;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::der::{self, oids, Attr, Extension};
use super::error::TestkitError;
use super::keys::{random_bytes, RsaKey};
use super::validity::{root_not_after, whole_seconds};
use crate::card::jpki::{self, Purpose};

/// One root: its certificate and private key, and the parts issuing needs.
#[derive(Debug)]
pub(crate) struct Root {
    pub purpose: Purpose,
    pub key: RsaKey,
    pub cert_der: Vec<u8>,
    /// DER Name, the issuer of every certificate and CRL this root signs.
    pub subject_der: Vec<u8>,
    /// subjectKeyIdentifier, repeated as authorityKeyIdentifier below it.
    pub key_identifier: Vec<u8>,
    pub spki_der: Vec<u8>,
}

fn purpose_unit(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Auth => jpki::ROOT_OU_AUTH,
        Purpose::Sign => jpki::ROOT_OU_SIGN,
    }
}

/// `C=JP, O=JPKI-TEST, OU=<purpose>, OU=Japan Agency for Local Authority Information Systems`.
pub(crate) fn root_subject(purpose: Purpose) -> Vec<u8> {
    der::name(&[
        (Attr::Country, "JP"),
        (Attr::Organization, jpki::TEST_ROOT_ORG),
        (Attr::OrganizationalUnit, purpose_unit(purpose)),
        (Attr::OrganizationalUnit, jpki::ROOT_OU_AGENCY),
    ])
}

/// The Japanese name J-LIS roots carry as subjectAltName (as in the 2015 and 2023 roots), and
/// their end-entity certificates as issuerAltName (docs/jpki-profiles.md).
pub(crate) fn root_alt_name(purpose: Purpose) -> Vec<u8> {
    let unit = match purpose {
        Purpose::Auth => "公的個人認証サービス利用者証明用",
        Purpose::Sign => "公的個人認証サービス署名用",
    };
    der::name(&[
        (Attr::Country, "JP"),
        (Attr::Organization, jpki::ISSUER_ALT_ORG),
        (Attr::OrganizationalUnit, unit),
        (Attr::OrganizationalUnit, "地方公共団体情報システム機構"),
    ])
}

/// Generates a key and self-signs a root valid from `now` for ten years.
pub(crate) fn issue_root(purpose: Purpose, now: OffsetDateTime) -> Result<Root, TestkitError> {
    let key = RsaKey::generate()?;
    let spki_der = key.spki_der()?;
    let key_identifier = der::key_identifier(&spki_der)?;
    let subject_der = root_subject(purpose);
    let mut serial = random_bytes(8)?;
    serial[0] = (serial[0] & 0x7f) | 0x01;

    // Extensions in the order of the J-LIS roots: keyUsage, subjectAltName, basicConstraints,
    // cRLDistributionPoints, subjectKeyIdentifier.
    let extensions = [
        Extension::new(
            oids::KEY_USAGE,
            true,
            // keyCertSign (5) + cRLSign (6), RFC 5280 §4.2.1.3.
            yasna::construct_der(|w| w.write_bitvec_bytes(&[0x06], 7)),
        ),
        Extension::new(
            oids::SUBJECT_ALT_NAME,
            false,
            yasna::construct_der(|w| {
                der::write_directory_general_names(w, &root_alt_name(purpose))
            }),
        ),
        Extension::new(
            oids::BASIC_CONSTRAINTS,
            true,
            yasna::construct_der(|w| w.write_sequence(|w| w.next().write_bool(true))),
        ),
        Extension::new(
            oids::CRL_DISTRIBUTION_POINTS,
            false,
            directory_crl_distribution_point(&subject_der),
        ),
        Extension::new(
            oids::SUBJECT_KEY_IDENTIFIER,
            false,
            yasna::construct_der(|w| w.write_bytes(&key_identifier)),
        ),
    ];
    let not_before = der::time(whole_seconds(now))?;
    let not_after = der::time(root_not_after(now)?)?;
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next()
                .write_tagged(yasna::Tag::context(0), |w| w.write_u8(2));
            der::write_serial(w.next(), &serial);
            der::write_sha256_with_rsa(w.next());
            w.next().write_der(&subject_der);
            w.next().write_sequence(|w| {
                w.next().write_der(&not_before);
                w.next().write_der(&not_after);
            });
            w.next().write_der(&subject_der);
            w.next().write_der(&spki_der);
            w.next().write_tagged(yasna::Tag::context(3), |w| {
                der::write_extensions(w, &extensions)
            });
        })
    });
    let cert_der = der::sign(&tbs, &key)?;
    Ok(Root {
        purpose,
        key,
        cert_der,
        subject_der,
        key_identifier,
        spki_der,
    })
}

/// CRLDistributionPoints with one fullName directoryName: J-LIS distributes CRLs through its
/// own network, not from URLs (reference/jpki.md).
pub(crate) fn directory_crl_distribution_point(name_der: &[u8]) -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_sequence(|w| {
                // DistributionPoint.distributionPoint [0] { fullName [0] GeneralNames }
                w.next().write_tagged(yasna::Tag::context(0), |w| {
                    w.write_tagged_implicit(yasna::Tag::context(0), |w| {
                        der::write_directory_general_names(w, name_der)
                    })
                });
            });
        });
    })
}

/// Rebuilds a root from its saved certificate and PKCS#8 key, checking that they match.
pub(crate) fn load_root(
    purpose: Purpose,
    cert_der: Vec<u8>,
    key_pkcs8: &[u8],
) -> Result<Root, TestkitError> {
    let key = RsaKey::from_pkcs8(key_pkcs8)?;
    let spki_der = key.spki_der()?;
    let (_, cert) = X509Certificate::from_der(&cert_der)
        .map_err(|e| TestkitError::Certificate(e.to_string()))?;
    if cert.public_key().raw != spki_der.as_slice() {
        return Err(TestkitError::Certificate(format!(
            "the {purpose} root certificate does not belong to its key"
        )));
    }
    let subject_der = cert.subject().as_raw().to_vec();
    let key_identifier = der::key_identifier(&spki_der)?;
    Ok(Root {
        purpose,
        key,
        cert_der,
        subject_der,
        key_identifier,
        spki_der,
    })
}
