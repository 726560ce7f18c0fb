//! The declarative part of the TOML file, as written: `scopes`, `[manage]`,
//! `[clients.ID]` and `[users.NAME]`. Unknown keys are refused, as in the rest of
//! the file. Secrets are references; a literal is read only far enough to refuse it.

use std::path::PathBuf;

use serde::Deserialize;

/// Which kinds the file owns entirely: a row of such a kind that the file does not
/// declare is removed. Off by default, so a file never removes what it did not add.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manage {
    #[serde(default)]
    pub clients: bool,
    #[serde(default)]
    pub users: bool,
}

/// `[clients.ID]`: the fields of `admit client add`, with the CLI's defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDecl {
    pub name: Option<String>,
    #[serde(default)]
    pub public: bool,
    /// Required unless `public`.
    pub secret: Option<SecretRef>,
    /// [default: authorization_code, refresh_token]
    pub grants: Option<Vec<String>>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub skip_consent: bool,
    /// [default: true]; false only for confidential clients.
    pub require_pkce: Option<bool>,
    pub id_token_alg: Option<String>,
    #[serde(default)]
    pub introspect: bool,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub code_ttl: Option<i64>,
    pub session_ttl: Option<i64>,
}

/// `[users.NAME]`: test and fixture accounts.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDecl {
    pub password: Option<SecretRef>,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Where a secret comes from: `{ env = "VAR" }` or `{ file = "PATH" }`. A plain
/// string parses as [`SecretRef::Literal`], without its value, so the check that
/// refuses it can name the key and never echo the secret (a parse error would
/// quote the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    File(PathBuf),
    Literal,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Reference {
            env: Option<String>,
            file: Option<PathBuf>,
        }
        let value = toml::Value::deserialize(d)?;
        if !value.is_table() {
            return Ok(SecretRef::Literal);
        }
        let reference = Reference::deserialize(value).map_err(|_| {
            serde::de::Error::custom("a secret is { env = \"VAR\" } or { file = \"PATH\" }")
        })?;
        match reference {
            Reference {
                env: Some(var),
                file: None,
            } => Ok(SecretRef::Env(var)),
            Reference {
                env: None,
                file: Some(path),
            } => Ok(SecretRef::File(path)),
            _ => Err(serde::de::Error::custom(
                "a secret is exactly one of { env = \"VAR\" } or { file = \"PATH\" }",
            )),
        }
    }
}
