//! `Digest`: a validated `sha256:<64 hex>` content address, as OCI and docker print it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not of the form `algorithm:hex` with a known algorithm and the right length.
    #[error("invalid digest format: `{0}`")]
    InvalidFormat(String),
    /// A sha256 digest with the wrong number of hex digits.
    #[error("invalid checksum digest length")]
    InvalidLength,
    /// An algorithm other than sha256.
    #[error("unsupported digest algorithm: `{0}`")]
    UnsupportedAlgorithm(String),
}

/// A sha256 content digest (`sha256:` followed by 64 lowercase hex digits).
///
/// Parsed once (`FromStr`, serde) and printed one way (`Display`), like oci-spec's `Digest`.
///
/// ```
/// use layerbox_core::image::Digest;
/// let d = Digest::sha256_of(b"");
/// assert_eq!(d.to_string(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
/// assert_eq!(d.short(), "e3b0c44298fc");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// A digest from the 32 raw bytes of a finished sha256.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The algorithm, always `sha256` here.
    pub fn algorithm(&self) -> &'static str {
        "sha256"
    }

    /// The 64 hex digits without the algorithm (what docker's `--no-trunc` IDs end with).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The first 12 hex digits: docker's short image and layer ID.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((algorithm, hex_part)) = s.split_once(':') else {
            return Err(DigestError::InvalidFormat(s.to_owned()));
        };
        if algorithm != "sha256" {
            let well_formed = !algorithm.is_empty()
                && algorithm
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+._-".contains(&b));
            return Err(if well_formed {
                DigestError::UnsupportedAlgorithm(algorithm.to_owned())
            } else {
                DigestError::InvalidFormat(s.to_owned())
            });
        }
        if hex_part.len() != 64 {
            return Err(DigestError::InvalidLength);
        }
        let lower_hex = hex_part
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !lower_hex {
            return Err(DigestError::InvalidFormat(s.to_owned()));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes)
            .map_err(|_| DigestError::InvalidFormat(s.to_owned()))?;
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> Self {
        d.to_string()
    }
}

/// A streaming sha256 that also counts bytes: an `io::Write` sink for tar writers.
#[derive(Default, Clone)]
pub struct DigestWriter {
    hasher: Sha256,
    len: u64,
}

impl DigestWriter {
    /// A fresh hasher.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes to the digest.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// How many bytes went in.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing went in yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything written.
    pub fn finish(self) -> Digest {
        Digest(self.hasher.finalize().into())
    }
}

impl std::io::Write for DigestWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_prints_one_way() {
        let d: Digest = EMPTY.parse().unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d, Digest::sha256_of(b""));
        assert_eq!(d.algorithm(), "sha256");
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in ["", "sha256", &EMPTY.replace('e', "E"), ":e3b0"] {
            assert!(
                matches!(bad.parse::<Digest>(), Err(DigestError::InvalidFormat(_))),
                "{bad}"
            );
        }
        for short in ["sha256:", "sha256:abc", &format!("{EMPTY}0")] {
            assert_eq!(short.parse::<Digest>(), Err(DigestError::InvalidLength));
        }
        assert_eq!(
            "sha512:00".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm("sha512".into()))
        );
    }

    #[test]
    fn serde_round_trip_is_a_string() {
        let d = Digest::sha256_of(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:zz\"").is_err());
    }

    #[test]
    fn writer_matches_one_shot() {
        let mut w = DigestWriter::new();
        w.update(b"hello ");
        w.update(b"world");
        assert_eq!(w.len(), 11);
        assert_eq!(w.finish(), Digest::sha256_of(b"hello world"));
    }
}
