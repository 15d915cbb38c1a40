//! Who owns a file, and who may read it without a token.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

const MAX_ORG_LEN: usize = 128;

/// The organisation (tenant) a request acts for, from the token's claim.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrgId(String);

impl OrgId {
    /// Accepts the characters that can safely stand in a key: letters, digits, `-`, `_`.
    ///
    /// API Gateway hands claims over as strings, whatever their JSON type, so the
    /// renderings of a JSON `null`, `true` or `false` claim are refused too (and a
    /// fraction such as `1.5`, or a list, has characters no organisation id has).
    pub fn parse(raw: &str) -> Result<Self> {
        // A leading '_' is kept for the service's own owners, such as `_public`.
        let ok = !raw.is_empty()
            && raw.len() <= MAX_ORG_LEN
            && !raw.starts_with('_')
            && !matches!(raw, "null" | "true" | "false" | "undefined")
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if ok {
            Ok(OrgId(raw.to_owned()))
        } else {
            Err(Error::unauthorized(
                "the token's organisation claim is not a valid organisation id",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For ids the service makes itself (such as the owner of public uploads).
    pub(crate) fn trusted(raw: &str) -> Self {
        OrgId(raw.to_owned())
    }
}

/// Who may read a file's bytes without a token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessControl {
    #[default]
    Private,
    PublicRead,
}

impl AccessControl {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessControl::Private => "private",
            AccessControl::PublicRead => "public-read",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "private" => Ok(AccessControl::Private),
            "public-read" => Ok(AccessControl::PublicRead),
            _ => Err(Error::new(
                ErrorCode::InvalidAccessControl,
                "access_control must be \"private\" or \"public-read\"",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_are_key_safe() {
        assert!(OrgId::parse("123").is_ok());
        assert!(OrgId::parse("acme_corp-1").is_ok());
        for bad in [
            "",
            "a/b",
            "..",
            "a b",
            "_public",
            &"x".repeat(200),
            "null",
            "true",
            "false",
            "1.5",
            "[a b]",
            "{}",
        ] {
            assert!(OrgId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
