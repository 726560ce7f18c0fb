//! `admit doctor`: checks a deployment (the settings `serve` would run with, the
//! registered clients, the signing keys, the master key file, the clock) against the
//! advice of RFC 9700 and admit's own. Prints each finding with its severity and exits
//! 1 when one is high, so a deployment pipeline can stop on it.
//!
//! The rules are pure functions of what they look at; `run` gathers it.

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;

use admit_jose::Algorithm;
use admit_server::Settings;
use serde::Serialize;

use crate::config::FileConfig;

#[derive(clap::Args)]
#[group(id = "doctor_args")]
pub struct Args {
    /// Print the findings as JSON
    #[arg(long)]
    json: bool,
    /// The settings to check, as `admit serve` takes them
    #[command(flatten)]
    serve: super::serve::Args,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

#[derive(Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// What the finding is about: `issuer`, `client app`, `key KID`, ...
    pub subject: String,
    pub finding: String,
}

fn finding(severity: Severity, subject: impl Into<String>, text: impl Into<String>) -> Finding {
    Finding {
        severity,
        subject: subject.into(),
        finding: text.into(),
    }
}

pub async fn run(
    args: Args,
    file: &FileConfig,
    data_dir: std::path::PathBuf,
    database_url: String,
) -> anyhow::Result<ExitCode> {
    let settings = super::serve::settings(&args.serve, file, data_dir.clone(), database_url)?;
    let store = super::open_store(&settings.database_url, &data_dir).await?;
    let now = admit_server::now();
    let mut findings = check_settings(&settings);
    for client in store.list_clients().await? {
        findings.extend(check_client(&client));
    }
    findings.extend(check_keys(&store.list_keys().await?, now));
    findings.extend(check_master_key(&settings));
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));

    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else if findings.is_empty() {
        println!("no findings");
    } else {
        for f in &findings {
            let severity = format!("{:?}", f.severity).to_uppercase();
            println!("{severity:<6}  {}: {}", f.subject, f.finding);
        }
    }
    let high = findings.iter().any(|f| f.severity == Severity::High);
    Ok(if high {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The issuer, token lifetimes, the access-token algorithm and key rotation.
pub fn check_settings(s: &Settings) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    match url::Url::parse(&s.issuer) {
        Ok(u) if u.scheme() == "https" => {}
        Ok(u) if is_loopback(&u) => out.push(finding(
            Info,
            "issuer",
            "http on a loopback address: for development only",
        )),
        _ => out.push(finding(
            High,
            "issuer",
            format!(
                "{} is not https: codes, tokens and passwords would cross the network in \
                 clear (RFC 6749 §3.1, §3.2 require TLS; OpenID Connect Discovery §3 an \
                 https issuer)",
                s.issuer
            ),
        )),
    }
    if s.access_token_ttl > 3600 {
        out.push(finding(
            Medium,
            "access_token_ttl",
            format!(
                "access tokens live {} s: a leaked one stays usable that long; keep them \
                 short and use refresh tokens (RFC 6819 §5.1.5.3)",
                s.access_token_ttl
            ),
        ));
    }
    if s.refresh_token_ttl > 90 * 24 * 3600 {
        out.push(finding(
            Low,
            "refresh_token_ttl",
            format!(
                "refresh families last {} days from the login",
                s.refresh_token_ttl / 86400
            ),
        ));
    }
    if s.access_token_alg == Algorithm::HS256 {
        out.push(finding(
            Medium,
            "access_token_alg",
            "HS256: every service that checks access tokens holds the secret that signs \
             them, and can mint its own; prefer EdDSA or ES256",
        ));
    }
    if s.key_rotation_interval.is_none() {
        out.push(finding(
            Low,
            "key_rotation_interval",
            "signing keys rotate only on command",
        ));
    }
    out
}

/// A registered client's grants, PKCE and redirect URIs.
pub fn check_client(c: &admit_store::Client) -> Vec<Finding> {
    use Severity::*;
    let subject = format!("client {}", c.client_id);
    let mut out = Vec::new();
    if c.grant_types.iter().any(|g| g == "password") {
        // RFC 9700 §2.4: the password grant MUST NOT be used; a public client cannot
        // even authenticate, so anyone can try passwords through it.
        let severity = if c.public { High } else { Medium };
        out.push(finding(
            severity,
            &subject,
            "may use the password grant, which RFC 9700 §2.4 says must not be used",
        ));
    }
    if c.grant_types.iter().any(|g| g == "authorization_code") && !c.require_pkce && !c.public {
        out.push(finding(
            Medium,
            &subject,
            "may omit PKCE, which RFC 9700 §2.1.1 recommends for confidential clients too",
        ));
    }
    for uri in c.redirect_uris.iter().chain(&c.post_logout_redirect_uris) {
        let Ok(u) = url::Url::parse(uri) else {
            continue;
        };
        if u.scheme() != "http" {
            continue;
        }
        if u.host_str() == Some("localhost") {
            out.push(finding(
                Medium,
                &subject,
                format!(
                    "redirect URI {uri}: use 127.0.0.1 or [::1], not localhost, which \
                     may resolve elsewhere (RFC 8252 §8.3)"
                ),
            ));
        } else if !is_loopback(&u) {
            out.push(finding(
                High,
                &subject,
                format!(
                    "redirect URI {uri} is http off loopback: codes would cross the \
                     network in clear (RFC 6749 §3.1.2.1, RFC 9700 §4.1)"
                ),
            ));
        }
    }
    out
}

/// Key sizes, and the clock against the newest key in the database (written by this
/// or another instance, so a clock behind it is behind the others').
pub fn check_keys(keys: &[admit_store::SigningKey], now: i64) -> Vec<Finding> {
    use Severity::*;
    let mut out = Vec::new();
    for key in keys.iter().filter(|k| k.state != "retired") {
        if let Some(bits) = rsa_bits(key).filter(|&b| b < 2048) {
            out.push(finding(
                High,
                format!("key {}", key.kid),
                format!("RSA key of {bits} bits; RFC 7518 §3.3 requires 2048 or more"),
            ));
        }
    }
    // 2024-01-01: no clock reads earlier on a machine admit runs on, unless unset.
    if now < 1_704_067_200 {
        out.push(finding(
            High,
            "clock",
            "the system clock reads before 2024: tokens would carry wrong times",
        ));
    }
    let newest = keys
        .iter()
        .flat_map(|k| [Some(k.created_at), k.activated_at, k.retired_at])
        .flatten()
        .max();
    if let Some(ahead) = newest.map(|t| t - now).filter(|&d| d > 60) {
        out.push(finding(
            High,
            "clock",
            format!(
                "a key in the database was written {ahead} s in the future of this clock: \
                 this machine's clock is behind, so tokens it issues may be refused as \
                 not yet valid or expired (RFC 7519 §4.1.4, §4.1.5)"
            ),
        ));
    }
    out
}

/// The master key file must be readable by its owner only.
pub fn check_master_key(s: &Settings) -> Vec<Finding> {
    if s.master_key.is_some() {
        return vec![finding(
            Severity::Info,
            "master key",
            "given by setting: keep it in a secret store, never in the config file",
        )];
    }
    master_key_file_finding(&s.data_dir.join("master.key"))
        .into_iter()
        .collect()
}

#[cfg(unix)]
fn master_key_file_finding(path: &Path) -> Option<Finding> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        finding(
            Severity::High,
            "master key",
            format!(
                "{} has mode {:o}: others can read the key that decrypts the signing \
                 keys (chmod 600)",
                path.display(),
                mode & 0o777
            ),
        )
    })
}

#[cfg(not(unix))]
fn master_key_file_finding(_: &Path) -> Option<Finding> {
    None
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        _ => false,
    }
}

/// The modulus size of an RSA key, from its public JWK.
fn rsa_bits(key: &admit_store::SigningKey) -> Option<usize> {
    use base64::Engine;
    let jwk: serde_json::Value = serde_json::from_str(key.public_jwk.as_deref()?).ok()?;
    let n = jwk.get("n")?.as_str()?;
    let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n)
        .ok()?;
    let leading_zeros = n.iter().take_while(|b| **b == 0).count();
    Some((n.len() - leading_zeros) * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(issuer: &str) -> Settings {
        let mut s = Settings::new("127.0.0.1:8080".parse().unwrap(), "/nonexistent".into());
        s.issuer = issuer.to_owned();
        s
    }

    fn client(public: bool, grants: &[&str], redirects: &[&str]) -> admit_store::Client {
        admit_store::Client {
            client_id: "app".into(),
            secret_hash: (!public).then(|| vec![0; 32]),
            public,
            name: None,
            grant_types: grants.iter().map(|g| g.to_string()).collect(),
            redirect_uris: redirects.iter().map(|r| r.to_string()).collect(),
            post_logout_redirect_uris: vec![],
            scopes: vec![],
            skip_consent: false,
            require_pkce: true,
            id_token_alg: None,
            access_token_ttl: None,
            refresh_token_ttl: None,
            refresh_idle_ttl: None,
            code_ttl: None,
            session_ttl: None,
            may_introspect: false,
            created_at: 0,
        }
    }

    fn severities(findings: &[Finding]) -> Vec<Severity> {
        findings.iter().map(|f| f.severity).collect()
    }

    #[test]
    fn the_issuer_must_be_https_off_loopback() {
        assert!(check_settings(&settings("https://auth.example")).is_empty());
        assert_eq!(
            severities(&check_settings(&settings("http://127.0.0.1:8080"))),
            [Severity::Info]
        );
        assert_eq!(
            severities(&check_settings(&settings("http://auth.example"))),
            [Severity::High]
        );
    }

    #[test]
    fn long_lifetimes_hs256_and_no_rotation_are_reported() {
        let mut s = settings("https://auth.example");
        s.access_token_ttl = 7200;
        s.refresh_token_ttl = 365 * 86400;
        s.access_token_alg = Algorithm::HS256;
        s.key_rotation_interval = None;
        let mut got = severities(&check_settings(&s));
        got.sort();
        use Severity::*;
        assert_eq!(got, [Low, Low, Medium, Medium]);
    }

    #[test]
    fn clients_password_grant_pkce_and_redirect_uris() {
        let code = ["authorization_code"];
        assert!(check_client(&client(false, &code, &["https://app.example/cb"])).is_empty());
        assert!(check_client(&client(true, &code, &["http://127.0.0.1/cb"])).is_empty());
        assert!(check_client(&client(true, &code, &["com.example.app:/cb"])).is_empty());
        let one = |c| severities(&check_client(&c));
        assert_eq!(one(client(true, &["password"], &[])), [Severity::High]);
        assert_eq!(one(client(false, &["password"], &[])), [Severity::Medium]);
        assert_eq!(
            one(client(false, &code, &["http://app.example/cb"])),
            [Severity::High]
        );
        assert_eq!(
            one(client(true, &code, &["http://localhost:9000/cb"])),
            [Severity::Medium]
        );
        let mut no_pkce = client(false, &code, &["https://app.example/cb"]);
        no_pkce.require_pkce = false;
        assert_eq!(one(no_pkce), [Severity::Medium]);
    }

    #[test]
    fn small_rsa_keys_and_a_clock_behind_the_database() {
        use base64::Engine;
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff; 128]);
        let key = |created_at, n: &str| admit_store::SigningKey {
            kid: "k".into(),
            alg: "RS256".into(),
            state: "current".into(),
            private_key_enc: vec![],
            public_jwk: Some(format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB"}}"#)),
            created_at,
            activated_at: None,
            retired_at: None,
        };
        let now = 1_800_000_000;
        let f = check_keys(&[key(now, &n)], now);
        assert_eq!(severities(&f), [Severity::High]);
        assert!(f[0].finding.contains("1024 bits"), "{}", f[0].finding);
        let big = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff; 256]);
        assert!(check_keys(&[key(now + 30, &big)], now).is_empty());
        assert_eq!(
            severities(&check_keys(&[key(now + 600, &big)], now)),
            [Severity::High]
        );
        assert_eq!(severities(&check_keys(&[], 1_000)), [Severity::High]);
    }
}
