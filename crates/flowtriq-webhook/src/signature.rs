//! The `X-Flowtriq-Signature` header: parsing and signing.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Secret;

/// Name of the header that carries the signature, lower-case as HTTP/2 sends it.
pub const SIGNATURE_HEADER: &str = "x-flowtriq-signature";

/// The only scheme Flowtriq uses.
const PREFIX: &str = "sha256=";

/// Length of an HMAC-SHA256 tag in bytes.
pub const MAC_LEN: usize = 32;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A well-formed `sha256=<hex>` signature: 32 bytes of HMAC-SHA256 tag.
///
/// Parsing checks only the form; whether the tag matches a body is the
/// [`Verifier`](crate::Verifier)'s job.
///
/// ```
/// use flowtriq_webhook::{Signature, SignatureError};
///
/// let header = format!("sha256={}", "ab".repeat(32));
/// let signature = Signature::parse(header.as_bytes())?;
/// assert_eq!(signature.to_string(), header);
///
/// assert_eq!(Signature::parse(b"sha256="), Err(SignatureError::EmptyDigest));
/// # Ok::<(), SignatureError>(())
/// ```
///
/// Two signatures compare with `==` in constant time, as the verifier compares them: comparing a
/// received signature with one computed by hand does not tell an attacker how much of it was
/// right.
#[derive(Clone, Copy, Eq)]
pub struct Signature([u8; MAC_LEN]);

/// Why a signature header is not a well-formed `sha256=<hex>` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is absent.
    Missing,
    /// The header is present but empty.
    Empty,
    /// The value has no `scheme=` prefix (for example bare hex).
    MissingPrefix,
    /// The value names a scheme other than `sha256` (for example `sha1=`).
    UnsupportedAlgorithm,
    /// `sha256=` with nothing after it.
    EmptyDigest,
    /// The digest is not 64 hex digits long (truncated or padded).
    InvalidLength {
        /// How many characters the digest had.
        len: usize,
    },
    /// The digest has the right length but contains a character that is not hex.
    InvalidHex,
}

impl SignatureError {
    /// Stable machine-readable code, as sent in rejection bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing_signature",
            Self::Empty => "empty_signature",
            Self::MissingPrefix => "missing_signature_prefix",
            Self::UnsupportedAlgorithm => "unsupported_signature_algorithm",
            Self::EmptyDigest => "empty_signature_digest",
            Self::InvalidLength { .. } => "invalid_signature_length",
            Self::InvalidHex => "invalid_signature_hex",
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => write!(
                f,
                "the {SIGNATURE_HEADER} header is missing; set a webhook secret in the Flowtriq \
                 dashboard so deliveries are signed"
            ),
            Self::Empty => write!(f, "the {SIGNATURE_HEADER} header is empty"),
            Self::MissingPrefix => write!(
                f,
                "the {SIGNATURE_HEADER} header has no `sha256=` prefix; expected `sha256=<64 hex digits>`"
            ),
            Self::UnsupportedAlgorithm => write!(
                f,
                "the {SIGNATURE_HEADER} header names an algorithm other than sha256; \
                 expected `sha256=<64 hex digits>`"
            ),
            Self::EmptyDigest => write!(
                f,
                "the {SIGNATURE_HEADER} header is `sha256=` with no digest"
            ),
            Self::InvalidLength { len } => write!(
                f,
                "the {SIGNATURE_HEADER} digest has {len} characters; an HMAC-SHA256 digest has 64 hex digits"
            ),
            Self::InvalidHex => write!(
                f,
                "the {SIGNATURE_HEADER} digest contains a character that is not a hex digit"
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

impl Signature {
    /// Parses a raw header value.
    ///
    /// Leading and trailing whitespace is ignored, as HTTP does; the `sha256` scheme name is
    /// matched case-insensitively and the hex digits may be upper or lower case.
    pub fn parse(header: &[u8]) -> Result<Self, SignatureError> {
        let value = header.trim_ascii();
        if value.is_empty() {
            return Err(SignatureError::Empty);
        }
        let Some(eq) = value.iter().position(|&b| b == b'=') else {
            return Err(SignatureError::MissingPrefix);
        };
        let (scheme, digest) = value.split_at(eq);
        if !scheme.eq_ignore_ascii_case(b"sha256") {
            return Err(SignatureError::UnsupportedAlgorithm);
        }
        let digest = digest.get(1..).unwrap_or_default();
        if digest.is_empty() {
            return Err(SignatureError::EmptyDigest);
        }
        if digest.len() != MAC_LEN * 2 {
            return Err(SignatureError::InvalidLength { len: digest.len() });
        }
        decode_hex(digest)
            .map(Self)
            .ok_or(SignatureError::InvalidHex)
    }

    /// Parses an optional header value, mapping absence to [`SignatureError::Missing`].
    pub fn parse_header(header: Option<&[u8]>) -> Result<Self, SignatureError> {
        header.map_or(Err(SignatureError::Missing), Self::parse)
    }

    /// Computes the signature Flowtriq sends for `body` under `secret`.
    pub fn compute(secret: &Secret, body: &[u8]) -> Self {
        let mut mac = keyed(secret.expose());
        mac.update(body);
        Self(mac.finalize().into_bytes().into())
    }

    /// Whether `tag` is this signature, compared in constant time: how long it takes does not
    /// depend on where the two differ.
    pub(crate) fn is(&self, tag: &[u8; MAC_LEN]) -> bool {
        // Four words rather than 32 bytes: subtle puts an optimisation barrier on every
        // element, and those barriers were most of the compare's cost.
        words(&self.0).ct_eq(&words(tag)).into()
    }

    /// The raw 32-byte tag.
    pub fn as_bytes(&self) -> &[u8; MAC_LEN] {
        &self.0
    }

    /// The tag as 64 lower-case hex digits, without the `sha256=` prefix.
    pub fn to_hex(&self) -> String {
        let mut out = [0u8; MAC_LEN * 2];
        // The buffer is exactly twice the tag, so encoding cannot fail.
        let hex = base16ct::lower::encode_str(&self.0, &mut out).unwrap_or_default();
        hex.to_owned()
    }
}

/// The header value `sha256=<lower-case hex>` that Flowtriq would send for `body`.
///
/// Use it to sign requests in tests, or to send deliveries of your own.
///
/// ```
/// use flowtriq_webhook::{sign, Secret};
///
/// let header = sign(&Secret::new("secret"), br#"{"event_type":"test"}"#);
/// assert!(header.starts_with("sha256="));
/// assert_eq!(header.len(), 7 + 64);
/// ```
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    Signature::compute(secret, body).to_string()
}

/// Decodes 64 hex digits, upper or lower case.
///
/// The digits come from the request, not from the secret, so their timing reveals nothing an
/// attacker does not already know; what must be constant-time is the compare with the expected
/// MAC ([`Signature::is`]). The loops have no branch and no table, so the compiler turns them
/// into a few vector instructions; validity is checked once, at the end.
fn decode_hex(digits: &[u8]) -> Option<[u8; MAC_LEN]> {
    let digits: &[u8; MAC_LEN * 2] = digits.try_into().ok()?;
    let nibbles = digits.map(nibble);
    let mut tag = [0u8; MAC_LEN];
    for (byte, &[high, low]) in tag.iter_mut().zip(nibbles.as_chunks::<2>().0) {
        *byte = (high << 4) | (low & 0x0f);
    }
    // A digit's nibble is 0..=15, anything else's is `NOT_HEX`, whose bits survive the OR.
    let seen = nibbles.iter().fold(0, |seen, nibble| seen | nibble);
    (seen & NOT_HEX == 0).then_some(tag)
}

/// What [`nibble`] gives for a byte that is not a hex digit.
const NOT_HEX: u8 = 0xf0;

/// The value of a hex digit, or [`NOT_HEX`].
fn nibble(digit: u8) -> u8 {
    let decimal = digit.wrapping_sub(b'0');
    // Setting 0x20 lower-cases a letter; no other byte lands in `a..=f` by it.
    let letter = (digit | 0x20).wrapping_sub(b'a');
    let is_decimal = 0u8.wrapping_sub(u8::from(decimal < 10));
    let is_letter = 0u8.wrapping_sub(u8::from(letter < 6));
    (decimal & is_decimal)
        | (letter.wrapping_add(10) & is_letter)
        | (NOT_HEX & !(is_decimal | is_letter))
}

fn words(tag: &[u8; MAC_LEN]) -> [u64; MAC_LEN / 8] {
    let mut words = [0u64; MAC_LEN / 8];
    for (word, bytes) in words.iter_mut().zip(tag.as_chunks::<8>().0) {
        *word = u64::from_ne_bytes(*bytes);
    }
    words
}

/// HMAC-SHA256 keyed with `key`; any key length is valid for HMAC.
pub(crate) fn keyed(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC hashes long keys and pads short ones: no key length is rejected.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.0)
    }
}

// Equal signatures have equal bytes, so hashing the bytes agrees with `==`.
impl std::hash::Hash for Signature {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for Signature {
    /// The header value, `sha256=<lower-case hex>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.to_hex())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl std::str::FromStr for Signature {
    type Err = SignatureError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn each_malformation_has_its_own_error() {
        let cases: &[(&[u8], SignatureError)] = &[
            (b"", SignatureError::Empty),
            (b"   ", SignatureError::Empty),
            (HEX.as_bytes(), SignatureError::MissingPrefix),
            (b"sha1=abcdef", SignatureError::UnsupportedAlgorithm),
            (b"=abcdef", SignatureError::UnsupportedAlgorithm),
            (b"sha256=", SignatureError::EmptyDigest),
            (b"sha256=abc", SignatureError::InvalidLength { len: 3 }),
            (
                b"sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
                SignatureError::InvalidHex,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Signature::parse(input),
                Err(*expected),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(Signature::parse_header(None), Err(SignatureError::Missing));
    }

    #[test]
    fn upper_case_and_whitespace_parse_to_the_same_tag() {
        let lower = Signature::parse(format!("sha256={HEX}").as_bytes());
        let upper = Signature::parse(format!(" SHA256={}\t", HEX.to_uppercase()).as_bytes());
        assert!(lower.is_ok());
        assert_eq!(lower, upper);
    }

    #[test]
    fn display_round_trips() {
        let sig = Signature::compute(&Secret::new("k"), b"body");
        assert_eq!(sig.to_string().parse::<Signature>(), Ok(sig));
    }

    /// Every byte in the first and in the last place of an otherwise valid digest: a hex digit
    /// decodes as base16ct decodes it, anything else is `InvalidHex`.
    #[test]
    fn decodes_every_byte_as_a_reference_decoder_does() {
        for byte in 0..=u8::MAX {
            for place in [0, MAC_LEN * 2 - 1] {
                let mut digest = HEX.as_bytes().to_vec();
                if let Some(digit) = digest.get_mut(place) {
                    *digit = byte;
                }
                let mut tag = [0u8; MAC_LEN];
                let expected = match base16ct::mixed::decode(&digest, &mut tag) {
                    Ok(_) => Ok(Signature(tag)),
                    Err(_) => Err(SignatureError::InvalidHex),
                };
                let header = [b"sha256=".as_slice(), &digest].concat();
                let parsed = Signature::parse(&header);
                // Whitespace at the end of the value is trimmed before the length is checked.
                if byte.is_ascii_whitespace() && place > 0 {
                    assert_eq!(parsed, Err(SignatureError::InvalidLength { len: 63 }));
                } else {
                    assert_eq!(parsed, expected, "byte {byte:#04x} at {place}");
                }
            }
        }
    }

    #[test]
    fn a_tag_differing_in_any_one_bit_is_not_the_signature() {
        let signature = Signature::compute(&Secret::new("k"), b"body");
        assert!(signature.is(signature.as_bytes()));
        assert_eq!(signature, Signature(*signature.as_bytes()));
        for bit in 0..MAC_LEN * 8 {
            let mut tag = *signature.as_bytes();
            if let Some(byte) = tag.get_mut(bit / 8) {
                *byte ^= 1 << (bit % 8);
            }
            assert!(!signature.is(&tag), "bit {bit}");
            assert_ne!(signature, Signature(tag), "bit {bit}");
        }
    }

    /// RFC 4231 test case 2.
    #[test]
    fn matches_rfc4231() {
        let sig = Signature::compute(&Secret::new("Jefe"), b"what do ya want for nothing?");
        assert_eq!(
            sig.to_hex(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
