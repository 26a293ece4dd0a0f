use super::*;

fn grant() -> CodeRow {
    CodeRow {
        code_hash: String::new(),
        grant_id: "g-1".into(),
        client_id: "shop".into(),
        client_session_id: "cs-1".into(),
        person_id: MyKeyId::from_stored("mykey-id-that-must-not-travel".into()),
        redirect_uri: "https://shop.example.jp/callback".into(),
        scope: "openid name".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGWSstw-cM".into(),
        auth_time: 1_700_000_000,
        amr: "sc pin hwk".into(),
        acr: "urn:mykey:acr:card".into(),
        claims: None,
        created_at: 1_700_000_100,
        expires_at: 1_700_000_160,
        redeemed_at: None,
        verification_id: None,
    }
}

fn seal() -> CodeSeal {
    CodeSeal::new(&[7u8; 32]).expect("key")
}

#[test]
fn a_sealed_code_opens_to_the_grant_it_was_issued_for_without_the_person() {
    let s = seal();
    let code = s.seal(&grant()).expect("sealed");
    assert!(CodeSeal::is_sealed_form(code.expose()));
    let opened = s.open(code.expose()).expect("opens");
    assert_eq!(opened.code_hash, code.hash());
    assert_eq!(
        opened.person_id.as_str(),
        "",
        "the MyKey ID is not in the code"
    );
    let want = CodeRow {
        code_hash: opened.code_hash.clone(),
        person_id: MyKeyId::from_stored(String::new()),
        ..grant()
    };
    // Debug hides a MyKey ID: the field is compared above.
    assert_eq!(format!("{opened:?}"), format!("{want:?}"));
    assert!(code.expose().len() < 300, "{}", code.expose().len());
}

#[test]
fn two_codes_for_the_same_grant_differ() {
    let s = seal();
    let (a, b) = (s.seal(&grant()).expect("a"), s.seal(&grant()).expect("b"));
    assert_ne!(a.expose(), b.expose());
}

#[test]
fn an_altered_truncated_or_foreign_code_does_not_open() {
    let s = seal();
    let code = s.seal(&grant()).expect("sealed").expose().to_owned();
    for i in [3, code.len() / 2, code.len() - 1] {
        let mut altered = code.clone().into_bytes();
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert!(s.open(&altered).is_none(), "altered at {i}");
    }
    assert!(s.open(&code[..code.len() - 4]).is_none());
    assert!(s.open("s1.").is_none());
    assert!(s.open(Secret::generate(32).expose()).is_none());
    let other = CodeSeal::new(&[8u8; 32]).expect("key");
    assert!(other.open(&code).is_none(), "another deployment's key");
}

#[test]
fn a_grant_larger_than_the_limit_is_not_sealed() {
    let s = seal();
    let mut big = grant();
    big.claims = Some(format!(r#"{{"id_token":{{"x":"{}"}}}}"#, "a".repeat(600)));
    assert!(s.seal(&big).is_none());
    big.claims = Some(r#"{"id_token":{"name":null}}"#.into());
    let code = s.seal(&big).expect("small claims fit");
    assert_eq!(
        s.open(code.expose()).expect("opens").claims.as_deref(),
        Some(r#"{"id_token":{"name":null}}"#)
    );
}

/// A code as versions before generations sealed it: no generation, the s1 label.
fn seal_v1(key: &[u8], row: &CodeRow) -> String {
    let unbound = UnboundKey::new(&AES_256_GCM_SIV, key).expect("key");
    let key = LessSafeKey::new(unbound);
    let nonce = [9u8; NONCE_LEN];
    let mut body = Vec::new();
    encode(row, &mut body).expect("encodes");
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(AAD_V1),
        &mut body,
    )
    .expect("seals");
    format!(
        "{PREFIX_V1}{}",
        URL_SAFE_NO_PAD.encode([&nonce[..], &body].concat())
    )
}

#[test]
fn the_generation_active_when_the_grant_was_made_seals_it_and_each_opens_its_own_codes() {
    let rotation = 1_700_000_130;
    let both =
        CodeSeal::with_generations(&[(1, &[7u8; 32], 0), (2, &[8u8; 32], rotation)]).expect("keys");
    let before = grant();
    let after = CodeRow {
        created_at: rotation,
        expires_at: rotation + 60,
        ..grant()
    };
    assert_eq!(both.sealing_generation(rotation - 1), Some(1));
    assert_eq!(both.sealing_generation(rotation), Some(2));
    let (old, new) = (
        both.seal(&before).expect("sealed"),
        both.seal(&after).expect("sealed"),
    );
    assert!(both.open(old.expose()).is_some() && both.open(new.expose()).is_some());
    let only_new = CodeSeal::with_generations(&[(2, &[8u8; 32], rotation)]).expect("key");
    assert!(only_new.open(new.expose()).is_some());
    assert!(
        only_new.open(old.expose()).is_none(),
        "a retired generation's codes no longer open"
    );
    let swapped = CodeSeal::with_generations(&[(1, &[8u8; 32], 0)]).expect("key");
    assert!(
        swapped.open(new.expose()).is_none(),
        "a code names its generation"
    );
}

#[test]
fn a_code_sealed_before_generations_opens_under_generation_1() {
    let code = seal_v1(&[7u8; 32], &grant());
    assert!(CodeSeal::is_sealed_form(&code));
    let opened = seal().open(&code).expect("opens");
    assert_eq!(opened.grant_id, "g-1");
    assert_eq!(opened.code_hash, hash_str(&code));
    let later = CodeSeal::with_generations(&[(2, &[7u8; 32], 0)]).expect("key");
    assert!(later.open(&code).is_none(), "only generation 1 opens them");
}
