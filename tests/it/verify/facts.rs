//! The basic facts of test-kit signature certificates, as an identity verification reads them.

use mykey_connect::card::facts::{BasicFacts, Era, Sex};
use mykey_connect::card::jpki::Purpose;
use mykey_connect::testkit::{CardOptions, TestCa};

use super::support::{Provider, ISSUED_AT};

fn facts_of(
    ca: &mut TestCa,
    provider: &Provider,
    edit: impl FnOnce(&mut CardOptions),
) -> BasicFacts {
    let mut options = CardOptions::example();
    edit(&mut options);
    let card = ca.issue_card(&options, ISSUED_AT).expect("card");
    provider
        .login(&card, Purpose::Sign)
        .expect("identity verification")
        .facts
        .expect("facts")
}

#[test]
fn substitute_characters_full_width_digits_and_unknown_birth_parts_come_through() {
    let mut ca = TestCa::ephemeral(ISSUED_AT).expect("CA");
    let provider = Provider::trusting(&mut ca);

    let gaiji = facts_of(&mut ca, &provider, |o| {
        o.holder.name = "髙橋\u{3000}一郎".to_owned();
        o.holder.name_substitute_map = Some("10000".to_owned());
    });
    assert!(gaiji.name_uses_substitutes);
    assert!(!gaiji.address_uses_substitutes);
    assert_eq!(gaiji.name_family.as_deref(), Some("髙橋"));

    let address = "大阪府大阪市北区中之島１丁目３番２０号";
    let full_width = facts_of(&mut ca, &provider, |o| {
        o.holder.address = address.to_owned();
        o.holder.address_substitute_map = Some("0".repeat(address.chars().count()));
    });
    assert_eq!(full_width.address, address);
    assert!(!full_width.address_uses_substitutes);

    let partial = facts_of(&mut ca, &provider, |o| {
        o.holder.date_of_birth = "319850400".to_owned();
        o.holder.sex = 3;
    });
    assert_eq!(partial.birthdate.era, Era::Showa);
    assert_eq!(
        (
            partial.birthdate.year,
            partial.birthdate.month,
            partial.birthdate.day
        ),
        (Some(1985), Some(4), None)
    );
    assert_eq!(partial.birthdate.iso_date(), None);
    assert_eq!(
        partial.birthdate.oidc_birthdate().as_deref(),
        Some("1985-04")
    );
    assert_eq!(partial.sex, Sex::Unknown);

    let year_only = facts_of(&mut ca, &provider, |o| {
        o.holder.date_of_birth = "019850000".to_owned()
    });
    assert_eq!(year_only.birthdate.era, Era::Unknown);
    assert_eq!(
        year_only.birthdate.oidc_birthdate().as_deref(),
        Some("1985")
    );
}
