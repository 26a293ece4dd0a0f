//! Verification keys built from JWKs, parsed once and reused for every signature.

use std::fmt;

use aws_lc_rs::signature::{
    ParsedPublicKey, RsaPublicKeyComponents, ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256,
};

use super::{b64url_decode, Alg, JoseError, Jwk, JwkKey};

/// RFC 7518 §3.3 sets the floor; aws-lc-rs's verification parameters set the ceiling.
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// A public key ready to verify JWS signatures.
pub struct VerifyingKey {
    kid: Option<String>,
    /// The JWK's `alg`, which restricts the key to that one algorithm (RFC 7517 §4.4).
    alg: Option<Alg>,
    material: Material,
}

enum Material {
    /// One parsed key per padding, so neither RS256 nor PS256 re-parses per token.
    Rsa {
        pkcs1: ParsedPublicKey,
        pss: ParsedPublicKey,
    },
    EcP256(ParsedPublicKey),
}

impl VerifyingKey {
    /// Builds the key from a public JWK: RSA from `n`/`e`, EC P-256 from `x`/`y` as an
    /// uncompressed point (SEC 1 §2.3.3). The point is checked to lie on the curve.
    pub fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, JoseError> {
        let alg = match jwk.alg.as_deref() {
            Some(name) => Some(name.parse::<Alg>()?),
            None => None,
        };
        let material = match &jwk.key {
            JwkKey::Rsa { n, e } => rsa_material(n, e)?,
            JwkKey::Ec { crv, x, y } => ec_material(crv, x, y)?,
        };
        let key = VerifyingKey {
            kid: jwk.kid.clone(),
            alg,
            material,
        };
        match key.alg {
            Some(alg) if !key.is_of_type_for(alg) => {
                Err(JoseError::InvalidJwk("\"alg\" does not match the key type"))
            }
            _ => Ok(key),
        }
    }

    /// The key id, if the JWK had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether this key may verify a signature made with `alg`.
    pub fn accepts(&self, alg: Alg) -> bool {
        self.is_of_type_for(alg) && self.alg.is_none_or(|own| own == alg)
    }

    fn is_of_type_for(&self, alg: Alg) -> bool {
        match self.material {
            Material::Rsa { .. } => alg.is_rsa(),
            Material::EcP256(_) => alg == Alg::ES256,
        }
    }

    /// Checks `signature` over `signing_input`; false for a wrong key type or a bad signature.
    pub(crate) fn verifies(&self, alg: Alg, signing_input: &[u8], signature: &[u8]) -> bool {
        let parsed = match (&self.material, alg) {
            (Material::Rsa { pkcs1, .. }, Alg::RS256) => pkcs1,
            (Material::Rsa { pss, .. }, Alg::PS256) => pss,
            (Material::EcP256(point), Alg::ES256) => point,
            _ => return false,
        };
        parsed.verify_sig(signing_input, signature).is_ok()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kty = match self.material {
            Material::Rsa { .. } => "RSA",
            Material::EcP256(_) => "EC P-256",
        };
        f.debug_struct("VerifyingKey")
            .field("kty", &kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

fn rsa_material(n: &str, e: &str) -> Result<Material, JoseError> {
    let n = unsigned_integer(n, "\"n\" is not base64url")?;
    let e = unsigned_integer(e, "\"e\" is not base64url")?;
    if n.is_empty() || e.is_empty() {
        return Err(JoseError::InvalidJwk("\"n\" and \"e\" must be positive"));
    }
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if bits < RSA_MIN_BITS {
        return Err(JoseError::WeakKey(bits));
    }
    if bits > RSA_MAX_BITS {
        return Err(JoseError::InvalidJwk("RSA modulus longer than 8192 bits"));
    }
    let components = RsaPublicKeyComponents { n, e };
    let rejected = |err: aws_lc_rs::error::KeyRejected| JoseError::InvalidKey(err.description_());
    Ok(Material::Rsa {
        pkcs1: components
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .map_err(rejected)?,
        pss: components
            .to_parsed_public_key(&RSA_PSS_2048_8192_SHA256)
            .map_err(rejected)?,
    })
}

/// Decodes a Base64urlUInt (RFC 7518 §2). Leading zero octets are not allowed by the RFC but
/// some libraries emit them; they change nothing about the value, so they are dropped.
fn unsigned_integer(text: &str, problem: &'static str) -> Result<Vec<u8>, JoseError> {
    let bytes = b64url_decode(text).ok_or(JoseError::InvalidJwk(problem))?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    Ok(bytes[first..].to_vec())
}

fn ec_material(crv: &str, x: &str, y: &str) -> Result<Material, JoseError> {
    if crv != "P-256" {
        return Err(JoseError::InvalidJwk("only the P-256 curve is supported"));
    }
    let x = b64url_decode(x).ok_or(JoseError::InvalidJwk("\"x\" is not base64url"))?;
    let y = b64url_decode(y).ok_or(JoseError::InvalidJwk("\"y\" is not base64url"))?;
    // RFC 7518 §6.2.1.2: each coordinate is the full 32-octet field element.
    if x.len() != 32 || y.len() != 32 {
        return Err(JoseError::InvalidJwk(
            "P-256 coordinates must be 32 bytes each",
        ));
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .map(Material::EcP256)
        .map_err(|err| JoseError::InvalidKey(err.description_()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ec_jwk(x: &str, y: &str) -> Jwk {
        Jwk {
            key: JwkKey::Ec {
                crv: "P-256".to_owned(),
                x: x.to_owned(),
                y: y.to_owned(),
            },
            kid: Some("ec".to_owned()),
            use_: None,
            alg: None,
        }
    }

    // RFC 7517 appendix A.1, the example P-256 public key.
    const X: &str = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
    const Y: &str = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";

    #[test]
    fn ec_key_from_the_rfc_example_accepts_only_es256() {
        let key = VerifyingKey::from_jwk(&ec_jwk(X, Y)).expect("valid point");
        assert!(key.accepts(Alg::ES256));
        assert!(!key.accepts(Alg::RS256));
        assert_eq!(key.kid(), Some("ec"));
    }

    #[test]
    fn ec_point_off_the_curve_is_rejected() {
        // The RFC point with the last character of y changed is no longer on the curve.
        let bad_y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyA";
        assert!(matches!(
            VerifyingKey::from_jwk(&ec_jwk(X, bad_y)),
            Err(JoseError::InvalidKey(_))
        ));
    }

    #[test]
    fn short_ec_coordinates_are_rejected() {
        assert!(matches!(
            VerifyingKey::from_jwk(&ec_jwk("AQ", Y)),
            Err(JoseError::InvalidJwk(_))
        ));
    }

    #[test]
    fn rsa_key_of_1024_bits_is_refused_as_weak() {
        let n = super::super::b64url(&[0xc5; 128]);
        let jwk = Jwk {
            key: JwkKey::Rsa {
                n,
                e: "AQAB".to_owned(),
            },
            kid: None,
            use_: None,
            alg: None,
        };
        assert_eq!(
            VerifyingKey::from_jwk(&jwk).map(|_| ()),
            Err(JoseError::WeakKey(1024))
        );
    }

    #[test]
    fn jwk_alg_of_another_key_type_is_refused() {
        let mut jwk = ec_jwk(X, Y);
        jwk.alg = Some("RS256".to_owned());
        assert!(matches!(
            VerifyingKey::from_jwk(&jwk),
            Err(JoseError::InvalidJwk(_))
        ));
    }
}
