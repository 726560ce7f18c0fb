//! The whole seed story in a real browser: `admit serve --demo`, then Chromium (driven
//! by playwright-core) logs in to the demo site with admit, sees the user info and the
//! decoded tokens, calls the API, refreshes and logs out. Screenshots are kept in
//! `artifacts/browser/`.

use std::path::Path;
use std::process::Command;

use crate::serve_binary::serve_env;

const SCRIPT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/browser");

fn browser_available() -> Result<(), String> {
    if !Path::new("/usr/bin/chromium").exists() {
        return Err("Chromium is not installed (apt-get install chromium)".into());
    }
    if !Path::new(SCRIPT_DIR)
        .join("node_modules/playwright-core")
        .exists()
    {
        return Err("playwright-core is not installed (npm ci in tests/browser)".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_site_login_in_a_real_browser() {
    if let Err(why) = browser_available() {
        // .ci/run installs both and sets ADMIT_REQUIRE_BROWSER, so CI never skips this.
        assert!(std::env::var_os("ADMIT_REQUIRE_BROWSER").is_none(), "{why}");
        eprintln!("skipped: {why}; browser test not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let running = serve_env(
        dir.path(),
        &[
            "--demo",
            "--demo-listen",
            "127.0.0.1:0",
            "--demo-site-listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    let printed = running.first_lines.concat();
    let site = printed
        .lines()
        .find_map(|l| l.strip_prefix("demo site (log in with admit): "))
        .expect("the site URL is printed")
        .trim()
        .to_owned();
    let password = printed
        .lines()
        .find_map(|l| l.split("password: ").nth(1))
        .expect("the demo password is printed")
        .trim()
        .to_owned();
    let artifacts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../artifacts/browser");

    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(format!("{SCRIPT_DIR}/demo_flow.mjs"))
            .args([&site, "demo", &password, artifacts])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (_, logs) = running.stop();
    assert!(
        out.status.success(),
        "browser flow failed: {}\n{}\nserver log:\n{logs}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_ne!(
        summary["login_origin"], summary["site_origin"],
        "the password is typed at admit, not at the site"
    );
    assert_eq!(summary["login_label_for_username"], "username");
    assert!(
        summary["consent_text"]
            .as_str()
            .unwrap()
            .contains("Demo site")
    );
    assert_eq!(summary["back_on_site"], true);
    assert!(
        summary["userinfo"].as_str().unwrap().contains("demo"),
        "{summary}"
    );
    for part in ["id_token", "access_token"] {
        let text = summary[part].as_str().unwrap();
        assert!(
            text.contains("iss") && text.contains("sub"),
            "{part} is decoded: {text}"
        );
    }
    assert!(
        summary["api_call"].as_str().unwrap().contains("200"),
        "{summary}"
    );
    assert!(
        summary["timeline_steps"].as_u64().unwrap() >= 5,
        "the five steps of the seed: {summary}"
    );
    assert!(summary["timeline_steps_after_refresh"].as_u64() > summary["timeline_steps"].as_u64());
    assert_eq!(summary["logged_out_on_site"], true);
    assert_eq!(summary["password_asked_again"], true);
}
