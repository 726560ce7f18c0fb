//! The file's rules and the pure planner, without a database: each case writes a
//! TOML fragment, resolves it with secrets from a table, and plans against rows
//! built in memory.

use admit_store::{Client, User};

use super::file::SecretRef;
use super::plan::{Action, Change, Kept, Kind, Live, Plan, plan};
use super::resolve::{Declared, resolve_with};
use crate::config::FileConfig;

const SECRET_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SECRET_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Secrets by reference: `{ env = "A" }` is SECRET_A, `{ env = "B" }` SECRET_B,
/// `{ env = "PW" }` a password, `{ env = "SHORT" }` too short for anything.
fn read(r: &SecretRef) -> anyhow::Result<String> {
    match r {
        SecretRef::Env(v) if v == "A" => Ok(SECRET_A.into()),
        SecretRef::Env(v) if v == "B" => Ok(SECRET_B.into()),
        SecretRef::Env(v) if v == "PW" => Ok("correct horse".into()),
        SecretRef::Env(v) if v == "SHORT" => Ok("short".into()),
        _ => anyhow::bail!("no such secret"),
    }
}

fn parse(text: &str) -> anyhow::Result<FileConfig> {
    let file: FileConfig = toml::from_str(text)?;
    Ok(file)
}

fn declared(text: &str) -> anyhow::Result<Declared> {
    resolve_with(&parse(text)?, &read)
}

/// The error of resolving `text`, as one line with its causes.
fn refusal(text: &str) -> String {
    format!("{:#}", declared(text).expect_err("refused"))
}

const APP: &str = r#"
scopes = ["openid", "api:read"]
[clients.app]
secret = { env = "A" }
grants = ["client_credentials"]
scopes = ["api:read"]
"#;

fn stored(declared: &Declared, id: &str) -> Client {
    Client {
        created_at: 7,
        ..declared.clients[id].clone()
    }
}

fn changes(plan: &Plan) -> Vec<(Kind, &str, Action, Vec<&str>)> {
    plan.changes
        .iter()
        .map(|c: &Change| (c.kind, c.id.as_str(), c.action, c.fields.clone()))
        .collect()
}

#[test]
fn a_declared_client_takes_the_cli_defaults() {
    let d = declared("[clients.web]\npublic = true\nredirect_uris = [\"https://a.example/cb\"]")
        .unwrap();
    let c = &d.clients["web"];
    assert_eq!(c.grant_types, ["authorization_code", "refresh_token"]);
    assert!(c.public && c.require_pkce && c.secret_hash.is_none() && !c.may_introspect);
    let d = declared(APP).unwrap();
    let c = &d.clients["app"];
    assert_eq!(
        c.secret_hash.as_deref(),
        Some(&admit_oauth::secret::hash(SECRET_A)[..])
    );
}

#[test]
fn a_literal_secret_is_refused_naming_the_key_not_the_value() {
    let text = "[clients.app]\nsecret = \"sssssssssssssssssssssssssssssssssssssssss\"";
    let file = parse(text).unwrap();
    assert_eq!(file.clients["app"].secret, Some(SecretRef::Literal));
    let e = refusal(text);
    assert!(
        e.contains("clients.app.secret") && e.contains("reference"),
        "{e}"
    );
    assert!(!e.contains("ssssssss"), "the secret is echoed: {e}");

    let e = refusal("[users.alice]\npassword = \"hunter2hunter2\"");
    assert!(e.contains("users.alice.password"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn a_reference_is_one_of_env_or_file() {
    assert!(parse("[clients.a]\nsecret = { env = \"A\", file = \"/x\" }").is_err());
    assert!(parse("[clients.a]\nsecret = { value = \"x\" }").is_err());
    let f = parse("[clients.a]\nsecret = { file = \"/run/s\" }").unwrap();
    assert_eq!(
        f.clients["a"].secret,
        Some(SecretRef::File("/run/s".into()))
    );
}

#[test]
fn the_cli_rules_hold_with_the_key_named() {
    for (text, expected) in [
        (
            "scopes = [\"openid\"]\n[clients.a]\npublic = true\nscopes = [\"admin\"]",
            "clients.a.scopes: \"admin\" is not in the top-level `scopes` list",
        ),
        (
            "[clients.a]\npublic = true\nsecret = { env = \"A\" }",
            "clients.a.secret: a public client has no secret",
        ),
        (
            "[clients.a]\ngrants = [\"client_credentials\"]",
            "clients.a.secret: a confidential client needs one",
        ),
        (
            "[clients.a]\nsecret = { env = \"SHORT\" }",
            "clients.a.secret: a client secret needs at least 32",
        ),
        (
            "[clients.a]\nsecret = { env = \"NONE\" }",
            "clients.a.secret: no such secret",
        ),
        (
            "[clients.a]\npublic = true\ngrants = [\"client_credentials\"]",
            "clients.a: a public client",
        ),
        (
            "[clients.a]\npublic = true\ngrants = [\"implicit\"]",
            "clients.a: unknown grant type",
        ),
        (
            "[clients.a]\npublic = true\nredirect_uris = [\"https://a/#x\"]",
            "must not have a fragment",
        ),
        (
            "[clients.a]\npublic = true\ncode_ttl = 601",
            "clients.a: code_ttl may be at most 600",
        ),
        (
            "[clients.a]\npublic = true\nrequire_pkce = false",
            "clients.a: a public client must use PKCE",
        ),
        ("[clients.\"a:b\"]\npublic = true", "without ':'"),
        (
            "[users.\"a b\"]\npassword = { env = \"PW\" }",
            "users.a b: a username may not contain spaces",
        ),
        (
            "[users.alice]\npassword = { env = \"SHORT\" }",
            "users.alice.password: a password has 8",
        ),
        (
            "[users.alice]\nemail = \"x\"",
            "users.alice.password: required",
        ),
        (
            "[users.alice]\npassword = { env = \"PW\" }\n[users.ALICE]\npassword = { env = \"PW\" }",
            "names the same account",
        ),
    ] {
        let e = refusal(text);
        assert!(
            e.contains(expected),
            "{text}\n  gave: {e}\n  wanted: {expected}"
        );
    }
}

#[test]
fn unknown_keys_are_refused() {
    assert!(parse("[clients.a]\npublic = true\nredirect_uri = []").is_err());
    assert!(parse("[manage]\nclient = true").is_err());
}

#[test]
fn nothing_declared_and_nothing_stored_plans_nothing() {
    assert_eq!(
        plan(&Declared::default(), &Live::default()),
        Plan::default()
    );
}

#[test]
fn a_missing_client_is_added_and_a_matching_one_left_alone() {
    let d = declared(APP).unwrap();
    let p = plan(&d, &Live::default());
    assert_eq!(changes(&p), [(Kind::Client, "app", Action::Add, vec![])]);

    let live = Live {
        clients: vec![stored(&d, "app")],
        users: vec![],
    };
    assert!(
        plan(&d, &live).is_empty(),
        "created_at is the database's own"
    );
}

#[test]
fn a_change_lists_the_fields_that_differ() {
    let d = declared(APP).unwrap();
    let mut have = stored(&d, "app");
    have.secret_hash = Some(admit_oauth::secret::hash(SECRET_B));
    have.scopes = vec!["openid".into()];
    have.access_token_ttl = Some(60);
    let live = Live {
        clients: vec![have],
        users: vec![],
    };
    assert_eq!(
        changes(&plan(&d, &live)),
        [(
            Kind::Client,
            "app",
            Action::Change,
            vec!["secret", "scopes", "access_token_ttl"]
        )]
    );
}

#[test]
fn an_undeclared_row_is_removed_only_when_the_file_manages_its_kind() {
    let d = declared(APP).unwrap();
    let other = Client {
        client_id: "other".into(),
        ..stored(&d, "app")
    };
    let live = Live {
        clients: vec![stored(&d, "app"), other],
        users: vec![user("bob", "x")],
    };
    let p = plan(&d, &live);
    assert!(p.is_empty());
    assert_eq!(
        p.kept,
        [
            Kept {
                kind: Kind::Client,
                id: "other".into()
            },
            Kept {
                kind: Kind::User,
                id: "bob".into()
            }
        ]
    );

    let managed = declared(&format!("{APP}\n[manage]\nclients = true\n")).unwrap();
    let p = plan(&managed, &live);
    assert_eq!(
        changes(&p),
        [(Kind::Client, "other", Action::Remove, vec![])]
    );
    assert_eq!(p.kept.len(), 1, "users are still not managed");
}

fn user(username: &str, password_hash: &str) -> User {
    User {
        id: format!("id-{username}"),
        username: username.into(),
        password_hash: password_hash.into(),
        email: None,
        email_verified: false,
        name: None,
        created_at: 1,
        updated_at: 1,
    }
}

#[test]
fn users_compare_by_canonical_name_and_by_password_against_the_hash() {
    let d =
        declared("[users.Alice]\npassword = { env = \"PW\" }\nemail = \"a@example.com\"").unwrap();
    assert!(d.users.contains_key("alice"));
    let p = plan(&d, &Live::default());
    assert_eq!(changes(&p), [(Kind::User, "alice", Action::Add, vec![])]);

    let hash = admit_server::password::hash("correct horse");
    let mut alice = user("alice", &hash);
    alice.email = Some("a@example.com".into());
    let live = |u: &User| Live {
        clients: vec![],
        users: vec![u.clone()],
    };
    assert!(plan(&d, &live(&alice)).is_empty());

    let mut stale = alice.clone();
    stale.password_hash = admit_server::password::hash("an older password");
    stale.name = Some("A".into());
    assert_eq!(
        changes(&plan(&d, &live(&stale))),
        [(
            Kind::User,
            "alice",
            Action::Change,
            vec!["name", "password"]
        )]
    );
}

#[test]
fn plan_json_names_fields_never_values() {
    let d = declared(APP).unwrap();
    let mut have = stored(&d, "app");
    have.secret_hash = Some(admit_oauth::secret::hash(SECRET_B));
    let live = Live {
        clients: vec![have],
        users: vec![],
    };
    let json = serde_json::to_value(plan(&d, &live)).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "changes": [{ "kind": "client", "id": "app", "action": "change", "fields": ["secret"] }],
            "kept": [],
        })
    );
}
