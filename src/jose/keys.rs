//! The provider's signing keys (RS256, PS256, ES256): generated or loaded from PKCS#8, parsed once.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
};

use super::jws::HeaderCache;
use super::{b64url, Alg, JoseError, Jwk, JwkKey, VerifyingKey};

/// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const RSA_MIN_BYTES: usize = 256;

/// An unencrypted PKCS#8 private key document; its `Debug` never shows the bytes.
pub struct Pkcs8Der(Vec<u8>);

impl Pkcs8Der {
    /// Wraps DER bytes (for example just opened from the database).
    pub fn new(der: Vec<u8>) -> Pkcs8Der {
        Pkcs8Der(der)
    }

    /// The DER bytes, to seal or to parse.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pkcs8Der {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pkcs8Der([redacted])")
    }
}

/// A private signing key of the provider, ready to sign many tokens: the key is parsed once and
/// the protected header is encoded once per `typ`. Share it behind an `Arc`.
pub struct SigningKey {
    signer: Signer,
    public_jwk: Jwk,
    kid: String,
    headers: HeaderCache,
}

enum Signer {
    Rs256(RsaKeyPair),
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt (RFC 7518 §3.5). A key of its own: one
    /// RSA key is never used with both paddings.
    Ps256(RsaKeyPair),
    Es256(EcdsaKeyPair),
}

impl SigningKey {
    /// A new RSA-2048 key for RS256 (or PS256), as PKCS#8 for sealing and storage.
    pub fn generate_rs256() -> Result<Pkcs8Der, JoseError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| JoseError::Crypto("RSA key generation failed"))?;
        let der = pair
            .as_der()
            .map_err(|_| JoseError::Crypto("RSA key could not be encoded as PKCS#8"))?;
        Ok(Pkcs8Der(der.as_ref().to_vec()))
    }

    /// A new P-256 key for ES256, as PKCS#8 for sealing and storage.
    pub fn generate_es256() -> Result<Pkcs8Der, JoseError> {
        let document =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| JoseError::Crypto("P-256 key generation failed"))?;
        Ok(Pkcs8Der(document.as_ref().to_vec()))
    }

    /// A new key for `alg`.
    pub fn generate(alg: Alg) -> Result<Pkcs8Der, JoseError> {
        match alg {
            Alg::RS256 | Alg::PS256 => Self::generate_rs256(),
            Alg::ES256 => Self::generate_es256(),
        }
    }

    /// Parses a PKCS#8 private key for `alg`. RSA keys shorter than 2048 bits are refused.
    pub fn from_pkcs8(alg: Alg, der: &[u8]) -> Result<SigningKey, JoseError> {
        let rejected =
            |err: aws_lc_rs::error::KeyRejected| JoseError::InvalidKey(err.description_());
        let (signer, key) = match alg {
            Alg::RS256 | Alg::PS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                if pair.public_modulus_len() < RSA_MIN_BYTES {
                    return Err(JoseError::WeakKey(pair.public_modulus_len() * 8));
                }
                let public = pair.public_key();
                let key = JwkKey::Rsa {
                    n: b64url(public.modulus().big_endian_without_leading_zero()),
                    e: b64url(public.exponent().big_endian_without_leading_zero()),
                };
                let signer = if alg == Alg::PS256 {
                    Signer::Ps256(pair)
                } else {
                    Signer::Rs256(pair)
                };
                (signer, key)
            }
            Alg::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?;
                // SEC 1 §2.3.3 uncompressed point: 0x04 ‖ x ‖ y, 32 bytes each on P-256.
                let point = pair.public_key().as_ref();
                if point.len() != 65 || point[0] != 0x04 {
                    return Err(JoseError::InvalidKey("unexpected P-256 public point"));
                }
                let key = JwkKey::Ec {
                    crv: "P-256".to_owned(),
                    x: b64url(&point[1..33]),
                    y: b64url(&point[33..]),
                };
                (Signer::Es256(pair), key)
            }
        };
        let mut public_jwk = Jwk {
            key,
            kid: None,
            use_: Some("sig".to_owned()),
            alg: Some(alg.as_str().to_owned()),
        };
        let kid = public_jwk.thumbprint();
        public_jwk.kid = Some(kid.clone());
        let headers = HeaderCache::new(alg, &kid);
        Ok(SigningKey {
            signer,
            public_jwk,
            kid,
            headers,
        })
    }

    /// The JWS algorithm this key signs with.
    pub fn alg(&self) -> Alg {
        match self.signer {
            Signer::Rs256(_) => Alg::RS256,
            Signer::Ps256(_) => Alg::PS256,
            Signer::Es256(_) => Alg::ES256,
        }
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK to publish in the provider's JWKS (`kid`, `use: sig`, `alg` set).
    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }

    /// A verification key for tokens this key signed (e.g. an `id_token_hint`).
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        VerifyingKey::from_jwk(&self.public_jwk)
    }

    pub(crate) fn headers(&self) -> &HeaderCache {
        &self.headers
    }

    /// Signs the JWS signing input; RS256 and PS256 give the modulus-length signature, ES256 the 64-byte
    /// `r ‖ s` of RFC 7518 §3.4.
    pub(crate) fn sign_input(&self, input: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input, &mut signature)
                    .map_err(|_| JoseError::Crypto("RS256 signing failed"))?;
                Ok(signature)
            }
            Signer::Ps256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PSS_SHA256, &rng, input, &mut signature)
                    .map_err(|_| JoseError::Crypto("PS256 signing failed"))?;
                Ok(signature)
            }
            Signer::Es256(pair) => pair
                .sign(&rng, input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| JoseError::Crypto("ES256 signing failed")),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_rs256_key_round_trips_through_pkcs8_with_the_same_kid() {
        let der = SigningKey::generate_rs256().expect("generates");
        let first = SigningKey::from_pkcs8(Alg::RS256, der.as_bytes()).expect("parses");
        let again = SigningKey::from_pkcs8(Alg::RS256, der.as_bytes()).expect("parses");
        assert_eq!(first.kid(), again.kid());
        assert_eq!(first.kid().len(), 43, "base64url of 32 bytes");
        assert_eq!(first.public_jwk().kid.as_deref(), Some(first.kid()));
        assert_eq!(first.public_jwk().thumbprint(), first.kid());
    }

    #[test]
    fn es256_public_jwk_has_p256_coordinates_of_32_bytes() {
        let der = SigningKey::generate_es256().expect("generates");
        let key = SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("parses");
        let JwkKey::Ec { crv, x, y } = &key.public_jwk().key else {
            panic!("an EC key");
        };
        assert_eq!(crv, "P-256");
        assert_eq!((x.len(), y.len()), (43, 43));
        assert_eq!(key.alg(), Alg::ES256);
    }

    #[test]
    fn an_ec_key_is_not_accepted_as_rs256() {
        let der = SigningKey::generate_es256().expect("generates");
        assert!(matches!(
            SigningKey::from_pkcs8(Alg::RS256, der.as_bytes()),
            Err(JoseError::InvalidKey(_))
        ));
    }

    #[test]
    fn a_ps256_key_publishes_alg_ps256_and_signs_with_pss() {
        let der = SigningKey::generate(Alg::PS256).expect("generates");
        let key = SigningKey::from_pkcs8(Alg::PS256, der.as_bytes()).expect("parses");
        assert_eq!(key.alg(), Alg::PS256);
        assert_eq!(key.public_jwk().alg.as_deref(), Some("PS256"));
        let token =
            super::super::sign(&key, Some("JWT"), &serde_json::json!({"a": 1})).expect("signs");
        let verifying = [key.verifying_key().expect("public key")];
        super::super::verify(&token, &verifying, &[Alg::PS256]).expect("verifies as PS256");
        assert!(
            super::super::verify(&token, &verifying, &[Alg::RS256]).is_err(),
            "a PS256 key does not verify RS256"
        );
    }

    #[test]
    fn debug_shows_alg_and_kid_but_no_key_material() {
        let der = SigningKey::generate_es256().expect("generates");
        let key = SigningKey::from_pkcs8(Alg::ES256, der.as_bytes()).expect("parses");
        let shown = format!("{key:?}");
        assert_eq!(
            shown,
            format!("SigningKey {{ alg: ES256, kid: {:?} }}", key.kid())
        );
        assert_eq!(format!("{der:?}"), "Pkcs8Der([redacted])");
    }
}
