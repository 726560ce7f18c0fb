//! `admit token ...`: a local jwt.io. `decode` shows the three parts of a JWT without
//! trusting them; `verify` checks one against an issuer's keys and says why it fails.

use std::path::PathBuf;
use std::process::ExitCode;

use admit_jose::{JwkSet, KeySet, Validation};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Subcommand;
use serde_json::Value;

#[derive(Subcommand)]
pub enum Command {
    /// Print the header, payload and signature of a JWT (nothing is verified)
    Decode { jwt: String },
    /// Verify a JWT's signature and claims against an issuer's published keys
    Verify {
        jwt: String,
        /// The issuer; its keys are found through discovery, and `iss` must equal it
        #[arg(long, required_unless_present = "jwks")]
        issuer: Option<String>,
        /// A JWKS file to use instead of fetching the issuer's
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// The audience the token must be for [default: the issuer]
        #[arg(long)]
        audience: Option<String>,
        /// The `typ` the token must have [default: at+jwt]
        #[arg(long, default_value = admit_jose::ACCESS_TOKEN_TYP)]
        typ: String,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Decode { jwt } => decode(&jwt),
        Command::Verify {
            jwt,
            issuer,
            jwks,
            audience,
            typ,
        } => verify(&jwt, issuer, jwks, audience, typ).await,
    }
}

fn decode(jwt: &str) -> anyhow::Result<ExitCode> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    if parts.len() != 3 {
        bail!(
            "a JWT has three base64url parts separated by dots; this has {}",
            parts.len()
        );
    }
    let json_part = |name: &str, part: &str| -> anyhow::Result<Value> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .with_context(|| format!("the {name} is not base64url"))?;
        serde_json::from_slice(&bytes).with_context(|| format!("the {name} is not JSON"))
    };
    let header = json_part("header", parts[0])?;
    let payload = json_part("payload", parts[1])?;
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .context("the signature is not base64url")?;
    println!(
        "HEADER (token type and signing algorithm):\n{}\n",
        serde_json::to_string_pretty(&header)?
    );
    println!(
        "PAYLOAD (the claims):\n{}",
        serde_json::to_string_pretty(&payload)?
    );
    for name in ["iat", "nbf", "exp", "auth_time"] {
        if let Some(t) = payload.get(name).and_then(Value::as_i64) {
            println!("  {name}: {}", describe_time(t));
        }
    }
    println!(
        "\nSIGNATURE ({} bytes, over header.payload):\n{}",
        signature.len(),
        parts[2]
    );
    println!("\n(decoded only: nothing here is verified; use `admit token verify`)");
    Ok(ExitCode::SUCCESS)
}

fn describe_time(t: i64) -> String {
    let delta = t - admit_server::now();
    match delta {
        d if d >= 0 => format!("{t} (in {d} s)"),
        d => format!("{t} ({} s ago)", -d),
    }
}

async fn verify(
    jwt: &str,
    issuer: Option<String>,
    jwks_file: Option<PathBuf>,
    audience: Option<String>,
    typ: String,
) -> anyhow::Result<ExitCode> {
    let jwks: JwkSet = match (&jwks_file, &issuer) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a JWKS", path.display()))?
        }
        (None, Some(issuer)) => fetch_jwks(issuer).await?,
        (None, None) => bail!("give --issuer or --jwks"),
    };
    let (keys, skipped) = KeySet::from_jwks(&jwks);
    for e in skipped {
        eprintln!("note: skipped a key: {e}");
    }
    // Without --issuer (a JWKS file), the token's own iss is shown but not trusted.
    let issuer = match issuer {
        Some(i) => i.trim_end_matches('/').to_owned(),
        None => unverified_claim(jwt, "iss").unwrap_or_default(),
    };
    let mut validation = Validation::access_token(issuer.clone(), audience.unwrap_or(issuer));
    validation.typ = Some(typ);
    match keys.verify(jwt.trim(), &validation, admit_server::now()) {
        Ok(claims) => {
            println!("valid: signature verified, iss, aud, typ, exp and nbf checked");
            println!("{}", serde_json::to_string_pretty(&claims)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("invalid: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn unverified_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    serde_json::from_slice::<Value>(&payload)
        .ok()?
        .get(name)?
        .as_str()
        .map(str::to_owned)
}

/// Discovery (RFC 8414 §3), then the `jwks_uri`. The metadata must name the same issuer.
async fn fetch_jwks(issuer: &str) -> anyhow::Result<JwkSet> {
    let issuer = issuer.trim_end_matches('/');
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()?;
    let url = format!("{issuer}/.well-known/openid-configuration");
    let metadata: Value = http
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .with_context(|| format!("reading {url}"))?;
    if metadata.get("issuer").and_then(Value::as_str) != Some(issuer) {
        bail!("the metadata at {url} names another issuer");
    }
    let jwks_uri = metadata
        .get("jwks_uri")
        .and_then(Value::as_str)
        .context("the metadata has no jwks_uri")?;
    http.get(jwks_uri)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .with_context(|| format!("reading {jwks_uri}"))
}
