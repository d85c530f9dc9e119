//! The shared secret that keys the HMAC.

use std::fmt;

use zeroize::Zeroizing;

/// A webhook secret, as configured in the Flowtriq dashboard.
///
/// The bytes are wiped from memory when the value is dropped, and `Debug` never prints them.
///
/// ```
/// use flowtriq_webhook::Secret;
///
/// let secret = Secret::new("whsec-from-the-dashboard");
/// assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Vec<u8>>,
}

impl Secret {
    /// Builds a secret from its text or raw bytes.
    ///
    /// Flowtriq keys the HMAC with the UTF-8 bytes of the secret exactly as typed, so nothing
    /// is trimmed here. A secret with leading or trailing whitespace, the usual trace of a copy
    /// and paste, is kept as it is and logged once as a `tracing` warning (without the secret).
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        let secret = Self {
            bytes: Zeroizing::new(secret.into()),
        };
        if secret.has_surrounding_whitespace() {
            tracing::warn!(
                secret_len = secret.bytes.len(),
                "webhook secret has leading or trailing whitespace; if signatures do not match, \
                 check that it was not copied with a newline or a space"
            );
        }
        secret
    }

    /// The raw key bytes.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the secret starts or ends with ASCII whitespace.
    pub fn has_surrounding_whitespace(&self) -> bool {
        let is_space = |b: &&u8| b.is_ascii_whitespace();
        self.bytes.first().as_ref().is_some_and(is_space)
            || self.bytes.last().as_ref().is_some_and(is_space)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<&[u8]> for Secret {
    fn from(secret: &[u8]) -> Self {
        Self::new(secret)
    }
}

impl From<Vec<u8>> for Secret {
    fn from(secret: Vec<u8>) -> Self {
        Self::new(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("hunter2-super-secret");
        let printed = format!("{secret:?} {secret:#?}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn surrounding_whitespace_is_detected_and_kept() {
        assert!(Secret::new("abc\n").has_surrounding_whitespace());
        assert!(Secret::new(" abc").has_surrounding_whitespace());
        assert!(!Secret::new("a b").has_surrounding_whitespace());
        assert!(!Secret::new("").has_surrounding_whitespace());
        assert_eq!(Secret::new("abc\n").expose(), b"abc\n");
    }
}
