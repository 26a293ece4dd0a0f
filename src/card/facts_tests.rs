use super::*;
use crate::card::test_support::{facts_san, EXAMPLE_FACTS};

fn facts(list: &[(u8, &str)]) -> Result<BasicFacts, FactsError> {
    BasicFacts::from_subject_alt_name(Some(&facts_san(list)))
}

fn with(replaced: &[(u8, &str)]) -> Vec<(u8, String)> {
    let mut list: Vec<(u8, String)> = EXAMPLE_FACTS
        .iter()
        .map(|(arc, v)| (*arc, (*v).to_owned()))
        .collect();
    for (arc, value) in replaced {
        list.retain(|(a, _)| a != arc);
        list.push((*arc, (*value).to_owned()));
    }
    list
}

fn facts_with(replaced: &[(u8, &str)]) -> Result<BasicFacts, FactsError> {
    let list = with(replaced);
    let borrowed: Vec<(u8, &str)> = list.iter().map(|(a, v)| (*a, v.as_str())).collect();
    facts(&borrowed)
}

#[test]
fn the_example_card_reads_back_every_fact() {
    let facts = facts(&EXAMPLE_FACTS).expect("facts");
    assert_eq!(facts.name, "住基\u{3000}花子");
    assert_eq!(facts.name_family.as_deref(), Some("住基"));
    assert_eq!(facts.name_given.as_deref(), Some("花子"));
    assert!(!facts.name_uses_substitutes);
    assert_eq!(facts.sex, Sex::Female);
    assert_eq!(facts.birthdate.era, Era::Showa);
    assert_eq!(facts.birthdate.iso_date().as_deref(), Some("1985-04-01"));
    assert!(!facts.address_uses_substitutes);
}

#[test]
fn an_address_with_full_width_digits_is_kept_exactly() {
    let facts = facts_with(&[(oids::FACT_ADDRESS, "大阪府大阪市北区中之島１丁目３番２０号")])
        .expect("facts");
    assert_eq!(facts.address, "大阪府大阪市北区中之島１丁目３番２０号");
}

#[test]
fn substitute_maps_flag_names_and_addresses_with_gaiji() {
    let facts = facts_with(&[
        (oids::FACT_NAME, "髙橋\u{3000}一郎"),
        (oids::FACT_NAME_MAP, "10000"),
        (oids::FACT_ADDRESS_MAP, "0000000000000000000"),
    ])
    .expect("facts");
    assert!(facts.name_uses_substitutes);
    assert!(!facts.address_uses_substitutes);
}

#[test]
fn a_name_without_an_ideographic_space_is_not_split() {
    let facts = facts_with(&[(oids::FACT_NAME, "SMITH JOHN")]).expect("facts");
    assert_eq!((facts.name_family, facts.name_given), (None, None));
}

#[test]
fn partially_unknown_birth_dates_render_as_much_as_is_known() {
    let cases = [
        ("319850401", Some("1985-04-01"), Some("1985-04-01")),
        ("319850400", None, Some("1985-04")),
        ("319850000", None, Some("1985")),
        ("319850012", None, Some("1985")),
        ("000000229", None, Some("0000-02-29")),
        ("000000400", None, None),
        ("000000000", None, None),
    ];
    for (text, iso, oidc) in cases {
        let date = Birthdate::parse(text).expect(text);
        assert_eq!(date.iso_date().as_deref(), iso, "{text}");
        assert_eq!(date.oidc_birthdate().as_deref(), oidc, "{text}");
    }
    let unknown = Birthdate::parse("000000000").expect("all unknown");
    assert_eq!(
        (unknown.era, unknown.year, unknown.month, unknown.day),
        (Era::Unknown, None, None, None)
    );
    assert_eq!(
        Birthdate::parse("520190501").expect("Reiwa").era,
        Era::Reiwa
    );
    assert_eq!(
        Birthdate::parse("720990101").expect("later era").era,
        Era::Later(7)
    );
}

#[test]
fn impossible_birth_dates_are_refused() {
    for text in [
        "319850230",
        "319851301",
        "319850132",
        "31985040",
        "3198504011",
        "3198５0401",
        "x19850401",
    ] {
        assert!(Birthdate::parse(text).is_err(), "{text}");
    }
    assert!(
        Birthdate::parse("319000229").is_err(),
        "1900 is not a leap year"
    );
    assert_eq!(
        facts_with(&[(oids::FACT_BIRTH, "319850230")]),
        Err(FactsError::Birthdate)
    );
}

#[test]
fn sex_codes_1_2_3_and_9_are_read_and_others_refused() {
    assert_eq!(Sex::parse("1"), Ok(Sex::Male));
    assert_eq!(Sex::parse("2"), Ok(Sex::Female));
    assert_eq!(Sex::parse("3"), Ok(Sex::Unknown));
    assert_eq!(Sex::parse("9"), Ok(Sex::Unknown));
    assert_eq!(Sex::Unknown.oidc_gender(), None);
    assert_eq!(Sex::Male.oidc_gender(), Some("male"));
    assert_eq!(facts_with(&[(oids::FACT_SEX, "0")]), Err(FactsError::Sex));
}

#[test]
fn missing_or_repeated_facts_are_refused_by_name() {
    let without_address: Vec<(u8, &str)> = EXAMPLE_FACTS
        .iter()
        .copied()
        .filter(|(arc, _)| *arc != oids::FACT_ADDRESS)
        .collect();
    assert_eq!(facts(&without_address), Err(FactsError::Missing("address")));
    let mut twice = EXAMPLE_FACTS.to_vec();
    twice.push((oids::FACT_SEX, "1"));
    assert_eq!(facts(&twice), Err(FactsError::Repeated("sex")));
    assert_eq!(
        BasicFacts::from_subject_alt_name(None),
        Err(FactsError::NoSubjectAltName)
    );
    assert_eq!(
        BasicFacts::from_subject_alt_name(Some(&[0x30, 0x05])),
        Err(FactsError::Malformed)
    );
}

#[test]
fn debug_output_never_shows_the_persons_data() {
    let facts = facts(&EXAMPLE_FACTS).expect("facts");
    let shown = format!("{facts:?}");
    assert!(
        !shown.contains("花子") && !shown.contains("東京"),
        "{shown}"
    );
}
