use super::*;
use time::macros::datetime;

fn tlv(tag: u8, value: &[u8]) -> Tlv<'_> {
    Tlv {
        tag,
        value,
        raw: value,
        value_offset: 0,
    }
}

#[test]
fn nested_elements_are_read_one_level_at_a_time() {
    let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xAA, 0x05, 0x00];
    let mut top = Reader::new(&der);
    let seq = top.expect(TAG_SEQUENCE, "sequence").expect("sequence");
    let mut inner = seq.reader();
    assert_eq!(inner.expect(TAG_INTEGER, "int").expect("int").value, &[5]);
    assert_eq!(inner.optional(TAG_BOOLEAN).expect("ok"), None);
    assert_eq!(inner.read().expect("octets").value, &[0xAA]);
    inner.finish("end").expect("inner consumed");
    assert_eq!(top.read().expect("null").tag, TAG_NULL);
    assert!(top.is_empty());
}

#[test]
fn lengths_past_the_end_or_not_minimal_are_refused() {
    assert!(Reader::new(&[0x30, 0x05, 0x00]).read().is_err());
    assert!(Reader::new(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0])
        .read()
        .is_err());
    assert!(Reader::new(&[0x30, 0x82, 0x00, 0x80]).read().is_err());
    assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).read().is_err());
    assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read().is_err());
    assert!(Reader::new(&[0x1F, 0x01, 0x00]).read().is_err());
    assert!(Reader::new(&[0x30]).read().is_err());
    let mut long = vec![0x04, 0x81, 0x80];
    long.extend([7u8; 0x80]);
    assert_eq!(
        Reader::new(&long).read().expect("long form").value.len(),
        0x80
    );
}

#[test]
fn errors_point_at_the_offending_byte_of_the_outer_input() {
    let der = [0x30, 0x03, 0x02, 0x05, 0x00];
    let mut top = Reader::new(&der);
    let seq = top.read().expect("sequence");
    let err = seq.reader().read().expect_err("inner length too long");
    assert_eq!(err.offset, 2);
}

#[test]
fn integers_lose_their_sign_byte_and_negative_ones_are_refused() {
    assert_eq!(
        unsigned_integer(&tlv(TAG_INTEGER, &[0, 0x8F, 1])),
        Some(&[0x8F, 1][..])
    );
    assert_eq!(unsigned_integer(&tlv(TAG_INTEGER, &[0])), Some(&[][..]));
    assert_eq!(unsigned_integer(&tlv(TAG_INTEGER, &[0x80])), None);
    assert_eq!(unsigned_integer(&tlv(TAG_INTEGER, &[])), None);
    assert_eq!(small_unsigned(&tlv(TAG_ENUMERATED, &[4])), Some(4));
    assert_eq!(small_unsigned(&tlv(TAG_INTEGER, &[1, 2, 3, 4, 5])), None);
}

#[test]
fn utc_and_generalized_times_follow_the_rfc_5280_profile() {
    assert_eq!(
        time(&tlv(TAG_UTC_TIME, b"491231235959Z")),
        Some(datetime!(2049-12-31 23:59:59 UTC))
    );
    assert_eq!(
        time(&tlv(TAG_UTC_TIME, b"500101000000Z")),
        Some(datetime!(1950-01-01 00:00:00 UTC))
    );
    assert_eq!(
        time(&tlv(TAG_GENERALIZED_TIME, b"20500101000000Z")),
        Some(datetime!(2050-01-01 00:00:00 UTC))
    );
    assert_eq!(time(&tlv(TAG_UTC_TIME, b"491231235959+")), None);
    assert_eq!(time(&tlv(TAG_UTC_TIME, b"491331235959Z")), None);
    assert_eq!(time(&tlv(TAG_UTC_TIME, b"4912312359Z")), None);
    assert_eq!(time(&tlv(TAG_GENERALIZED_TIME, b"2050010100000aZ")), None);
}
