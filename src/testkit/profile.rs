//! The two end-entity profiles: user-authentication and signature certificates (J-LIS, test).

use time::OffsetDateTime;
use yasna::Tag;

use super::card_file::Holder;
use super::der::{self, oids, Attr, Extension};
use super::error::TestkitError;
use super::root::{directory_crl_distribution_point, root_alt_name, Root};
use crate::card::jpki::{oid, Purpose};

/// CPS pointer J-LIS certificates carry in their policy qualifier.
const CPS_URI: &str = "http://www.jpki.go.jp/cps.html";

/// What differs between the certificates one root issues.
pub(crate) struct EndEntity<'a> {
    pub serial: &'a [u8],
    /// CN: an opaque id (auth) or the issue id (sign).
    pub common_name: &'a str,
    pub spki_der: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub holder: &'a Holder,
}

/// Issues the certificate of `root.purpose` for `subject`, signed by `root`.
pub(crate) fn issue(root: &Root, subject: &EndEntity<'_>) -> Result<Vec<u8>, TestkitError> {
    let subject_der = match root.purpose {
        // No personal data in the user-authentication certificate.
        Purpose::Auth => der::name(&[
            (Attr::Country, "JP"),
            (Attr::CommonName, subject.common_name),
        ]),
        Purpose::Sign => der::name(&[
            (Attr::Country, "JP"),
            (Attr::Locality, &subject.holder.prefecture),
            (Attr::Locality, &subject.holder.city),
            (Attr::CommonName, subject.common_name),
        ]),
    };
    let extensions = extensions(root, subject)?;
    let not_before = der::time(subject.not_before)?;
    let not_after = der::time(subject.not_after)?;
    let tbs = yasna::construct_der(|w| {
        w.write_sequence(|w| {
            w.next().write_tagged(Tag::context(0), |w| w.write_u8(2));
            der::write_serial(w.next(), subject.serial);
            der::write_sha256_with_rsa(w.next());
            w.next().write_der(&root.subject_der);
            w.next().write_sequence(|w| {
                w.next().write_der(&not_before);
                w.next().write_der(&not_after);
            });
            w.next().write_der(&subject_der);
            w.next().write_der(subject.spki_der);
            w.next()
                .write_tagged(Tag::context(3), |w| der::write_extensions(w, &extensions));
        })
    });
    der::sign(&tbs, &root.key)
}

fn extensions(root: &Root, subject: &EndEntity<'_>) -> Result<Vec<Extension>, TestkitError> {
    let (key_usage, policy) = match root.purpose {
        // digitalSignature (bit 0), RFC 5280 §4.2.1.3.
        Purpose::Auth => (
            yasna::construct_der(|w| w.write_bitvec_bytes(&[0x80], 1)),
            oid::POLICY_AUTH,
        ),
        // digitalSignature + nonRepudiation (bits 0, 1); the test-card policy.
        Purpose::Sign => (
            yasna::construct_der(|w| w.write_bitvec_bytes(&[0xc0], 2)),
            oid::POLICY_SIGN_TEST,
        ),
    };
    let policy = der::dotted(policy)?;
    let subject_key_identifier = der::key_identifier(subject.spki_der)?;
    let mut extensions = vec![Extension::new(oids::KEY_USAGE, true, key_usage)];
    if root.purpose == Purpose::Auth {
        extensions.push(Extension::new(
            oids::EXTENDED_KEY_USAGE,
            false,
            client_authentication_purposes(),
        ));
    }
    extensions.push(Extension {
        oid: der::oid(oids::CERTIFICATE_POLICIES),
        critical: true,
        value: yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next().write_oid(&policy);
                    w.next().write_sequence(|w| {
                        w.next().write_sequence(|w| {
                            w.next().write_oid(&der::oid(oids::CPS_QUALIFIER));
                            w.next().write_ia5_string(CPS_URI);
                        });
                    });
                });
            });
        }),
    });
    if root.purpose == Purpose::Sign {
        extensions.push(Extension::new(
            oids::SUBJECT_ALT_NAME,
            false,
            basic_facts(subject.holder)?,
        ));
    }
    // Real certificates show `C=JP, O=公的個人認証サービス` first (docs/jpki-profiles.md); the
    // rest is taken to be the issuing root's own subjectAltName.
    let issuer_alt_name = root_alt_name(root.purpose);
    extensions.extend([
        Extension::new(
            oids::ISSUER_ALT_NAME,
            false,
            yasna::construct_der(|w| der::write_directory_general_names(w, &issuer_alt_name)),
        ),
        Extension::new(
            oids::CRL_DISTRIBUTION_POINTS,
            false,
            directory_crl_distribution_point(&root.subject_der),
        ),
        Extension::new(
            oids::AUTHORITY_KEY_IDENTIFIER,
            false,
            der::authority_key_identifier(&root.key_identifier),
        ),
        Extension::new(
            oids::SUBJECT_KEY_IDENTIFIER,
            false,
            yasna::construct_der(|w| w.write_bytes(&subject_key_identifier)),
        ),
    ]);
    Ok(extensions)
}

/// extendedKeyUsage of the user-authentication certificate: TLS client authentication,
/// PKINIT client authentication and Windows smart card logon. No public source read for this
/// project confirms or refutes it (docs/jpki-profiles.md), so no verifier here relies on it.
fn client_authentication_purposes() -> Vec<u8> {
    yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for purpose in [
                oids::KP_CLIENT_AUTH,
                oids::KP_PKINIT_CLIENT_AUTH,
                oids::KP_MS_SMARTCARD_LOGON,
            ] {
                w.next().write_oid(&der::oid(purpose));
            }
        })
    })
}

/// subjectAltName of the signature certificate: the four basic facts and both substitute maps
/// as otherName { type-id, [0] EXPLICIT UTF8String }, in the order real certificates show
/// (name, birth date, sex, address, name map, address map; docs/jpki-profiles.md). A map is
/// written even without 外字, as all `0`s, one per character.
fn basic_facts(holder: &Holder) -> Result<Vec<u8>, TestkitError> {
    let sex = holder.sex.to_string();
    let no_substitutes = |text: &str| "0".repeat(text.chars().count());
    let name_map =
        (holder.name_substitute_map.clone()).unwrap_or_else(|| no_substitutes(&holder.name));
    let address_map =
        (holder.address_substitute_map.clone()).unwrap_or_else(|| no_substitutes(&holder.address));
    let facts: Vec<(&str, &str)> = vec![
        (oid::NAME, holder.name.as_str()),
        (oid::DATE_OF_BIRTH, holder.date_of_birth.as_str()),
        (oid::SEX, sex.as_str()),
        (oid::ADDRESS, holder.address.as_str()),
        (oid::NAME_SUBSTITUTE_MAP, name_map.as_str()),
        (oid::ADDRESS_SUBSTITUTE_MAP, address_map.as_str()),
    ];
    let facts = facts
        .into_iter()
        .map(|(type_id, value)| Ok((der::dotted(type_id)?, value)))
        .collect::<Result<Vec<_>, TestkitError>>()?;
    Ok(yasna::construct_der(|w| {
        w.write_sequence(|w| {
            for (type_id, value) in &facts {
                // GeneralName otherName [0] IMPLICIT OtherName (RFC 5280 §4.2.1.6).
                w.next().write_tagged_implicit(Tag::context(0), |w| {
                    w.write_sequence(|w| {
                        w.next().write_oid(type_id);
                        w.next()
                            .write_tagged(Tag::context(0), |w| w.write_utf8_string(value));
                    })
                });
            }
        })
    }))
}
