//! Two mainstream OpenID Connect client libraries, written elsewhere and used unchanged,
//! log in to admit: openid-client (JavaScript, `tests/interop/openid_client_flow.mjs`)
//! and Authlib (Python, `tests/interop/authlib_flow.py`). Each script discovers admit,
//! plays the browser through the login and consent pages, and runs the code flow with
//! PKCE, UserInfo, refresh, client credentials and RP-initiated logout with the library's
//! own checks; these tests assert on the JSON summary it prints.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{PASSWORD, start};

const INTEROP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/interop");
const CALLBACK: &str = "https://rp.example/callback";
const BYE: &str = "https://rp.example/bye";
/// Begins with '-', as one generated secret in 64 does: the scripts must still read it
/// as a value. Its '-', '.', '~' and '_' are escaped by the form-encoding openid-client
/// applies to Basic credentials (RFC 6749 §2.3.1) and sent raw by Authlib; admit decodes
/// both to the same secret.
const SECRET: &str = "-interop.secret~with_unreserved-characters";
/// RS256 is the default; the others a client registers with `--id-token-alg`.
const ID_TOKEN_ALGS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

#[derive(Clone, Copy)]
enum Library {
    OpenidClient,
    Authlib,
}

impl Library {
    fn name(self) -> &'static str {
        match self {
            Library::OpenidClient => "openid-client",
            Library::Authlib => "Authlib",
        }
    }

    /// The command that runs this library's script.
    fn command(self) -> Command {
        let (program, script) = match self {
            Library::OpenidClient => ("node", "openid_client_flow.mjs"),
            Library::Authlib => ("python3", "authlib_flow.py"),
        };
        let mut command = Command::new(program);
        command.arg(Path::new(INTEROP).join(script));
        command
    }

    /// Why the library cannot run here, if it cannot.
    fn missing(self) -> Option<&'static str> {
        match self {
            Library::OpenidClient => {
                let installed = Path::new(INTEROP)
                    .join("node_modules/openid-client/package.json")
                    .is_file()
                    && succeeds(Command::new("node").arg("--version"));
                (!installed)
                    .then_some("openid-client is not installed (npm ci --prefix tests/interop)")
            }
            Library::Authlib => {
                let installed = succeeds(
                    Command::new("python3")
                        .args(["-c", "import authlib.oidc.core, joserfc, requests"]),
                );
                (!installed).then_some(
                    "Authlib is not installed (python3 -m pip install 'authlib>=1.9' requests)",
                )
            }
        }
    }

    /// False (after saying so) when the library is missing and not required.
    fn available(self) -> bool {
        let Some(why) = self.missing() else {
            return true;
        };
        // scripts/test installs both and sets ADMIT_REQUIRE_INTEROP, so CI never skips.
        assert!(
            std::env::var_os("ADMIT_REQUIRE_INTEROP").is_none(),
            "{} is required: {why}",
            self.name()
        );
        eprintln!("skipped: {why}, interop test not run");
        false
    }
}

fn succeeds(command: &mut Command) -> bool {
    command.output().is_ok_and(|o| o.status.success())
}

/// Starts admit, registers alice and a client `rp` via the CLI, runs the library's
/// script against them and returns the server's issuer and the script's summary.
async fn run(library: Library, id_token_alg: &str) -> (String, Value) {
    let t = start().await;
    t.add_user("alice", PASSWORD);
    t.admit_ok(
        &[
            "client",
            "add",
            "rp",
            "--secret-stdin",
            "--redirect-uri",
            CALLBACK,
            "--post-logout-redirect-uri",
            BYE,
            "--scope",
            "openid",
            "--scope",
            "profile",
            "--scope",
            "email",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--grant",
            "client_credentials",
            "--id-token-alg",
            id_token_alg,
        ],
        Some(SECRET),
    );
    let mut command = library.command();
    command
        .args([&t.base, "rp", SECRET, CALLBACK, "alice", PASSWORD])
        .args(["--post-logout-redirect-uri", BYE])
        .args(["--id-token-alg", id_token_alg]);
    // The server runs on this test's runtime: wait for the script off it.
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let name = library.name();
    assert!(
        out.status.success(),
        "{name} ({id_token_alg}) failed against admit:\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let summary = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (t.base.clone(), summary)
}

/// What every library must have seen; `lib` names the run in failure messages.
fn check(lib: &str, issuer: &str, alg: &str, out: &Value) {
    assert_eq!(out["issuer"], issuer, "{lib}: discovery");
    assert_eq!(
        out["pages"],
        serde_json::json!(["/login", "/consent"]),
        "{lib}: a fresh browser logs in, then consents"
    );

    let callback = &out["callback"];
    assert_eq!(
        callback["iss"], issuer,
        "{lib}: RFC 9207 iss on the redirect"
    );
    assert_eq!(callback["state"], out["expected"]["state"], "{lib}: state");
    assert!(
        out["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{lib}: {out}"
    );
    assert_eq!(out["scope"], "email openid profile", "{lib}");

    let id = &out["id_token_claims"];
    assert_eq!(
        out["id_token_header"]["alg"], alg,
        "{lib}: the registered alg"
    );
    assert_eq!(id["iss"], issuer, "{lib}");
    assert_eq!(id["aud"], "rp", "{lib}");
    assert_eq!(id["azp"], "rp", "{lib}");
    assert_eq!(
        id["nonce"], out["expected"]["nonce"],
        "{lib}: the nonce sent"
    );
    for claim in ["sub", "sid", "auth_time", "at_hash", "iat", "exp"] {
        assert!(
            !id[claim].is_null(),
            "{lib}: ID token without {claim}: {id}"
        );
    }
    let sub = id["sub"].as_str().expect("a subject");

    let info = &out["userinfo"];
    assert_eq!(
        info["sub"], sub,
        "{lib}: UserInfo is about the ID token's user"
    );
    assert_eq!(info["preferred_username"], "alice", "{lib}");
    assert_eq!(info["email"], "a@example.com", "{lib}");

    let access = &out["access_token_claims"];
    assert_eq!(access["sub"], sub, "{lib}");
    assert_eq!(access["client_id"], "rp", "{lib}");

    let refresh = &out["refresh"];
    assert_eq!(refresh["new_access_token"], true, "{lib}: {refresh}");
    assert_eq!(
        refresh["new_refresh_token"], true,
        "{lib}: refresh tokens rotate"
    );
    assert_eq!(
        refresh["reuse_of_old_refresh_token"], "invalid_grant",
        "{lib}: a rotated refresh token is refused"
    );
    let renewed = &refresh["id_token_claims"];
    assert_eq!(renewed["sub"], sub, "{lib}: OIDC Core §12.2 same subject");
    assert_eq!(renewed["sid"], id["sid"], "{lib}: same session");
    assert_eq!(renewed["auth_time"], id["auth_time"], "{lib}: §12.2");
    assert!(renewed["nonce"].is_null(), "{lib}: no nonce on refresh");

    let machine = &out["client_credentials"];
    assert_eq!(
        machine["access_token_claims"]["sub"], "rp",
        "{lib}: a client-credentials token is about the client"
    );
    assert_eq!(machine["access_token_claims"]["client_id"], "rp", "{lib}");
    assert_eq!(machine["scope"], "profile", "{lib}");
    assert!(
        machine["refresh_token"].is_null(),
        "{lib}: RFC 6749 §4.4.3, no refresh token"
    );

    let end_session = out["end_session_url"].as_str().unwrap();
    assert!(
        end_session.starts_with(&format!("{issuer}/oauth2/logout?")),
        "{lib}: {end_session}"
    );
    let logout = &out["logout"];
    assert_eq!(logout["status"], 303, "{lib}: {logout}");
    assert_eq!(logout["location"], format!("{BYE}?state=bye"), "{lib}");
    assert_eq!(
        logout["session_cookie_kept"], false,
        "{lib}: logout ends the SSO session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_logs_in_refreshes_and_logs_out() {
    let library = Library::OpenidClient;
    if !library.available() {
        return;
    }
    for alg in ID_TOKEN_ALGS {
        let (issuer, out) = run(library, alg).await;
        let lib = format!("openid-client ({alg})");
        check(&lib, &issuer, alg, &out);
        // The library reads an error redirect's iss and state and reports the error.
        let silent = &out["prompt_none_without_session"];
        assert_eq!(
            silent["name"], "AuthorizationResponseError",
            "{lib}: {silent}"
        );
        assert_eq!(silent["error"], "login_required", "{lib}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_logs_in_refreshes_and_logs_out() {
    let library = Library::Authlib;
    if !library.available() {
        return;
    }
    for alg in ID_TOKEN_ALGS {
        let (issuer, out) = run(library, alg).await;
        check(&format!("Authlib ({alg})"), &issuer, alg, &out);
    }
}
