//! Load driver for refresh-token rotation, which wrk cannot drive: every request
//! presents the refresh token the previous answer returned. One connection per
//! starting token, each rotating its own chain for the given time. Prints its result
//! in wrk's format (`bench/load.sh` reads it the same way).
//!
//!   refresh_load URL BASIC_CREDENTIALS TOKENS_FILE SECONDS
//!
//! URL is the token endpoint, BASIC_CREDENTIALS the base64 `client_id:secret`,
//! TOKENS_FILE one refresh token per line. Loopback only: it is a benchmark tool.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, basic, tokens, seconds] = args.as_slice() else {
        bail!("usage: refresh_load URL BASIC_CREDENTIALS TOKENS_FILE SECONDS");
    };
    let url: reqwest::Url = url.parse()?;
    if !url
        .host_str()
        .is_some_and(|h| h == "127.0.0.1" || h == "localhost")
    {
        bail!("refresh_load drives loopback servers only");
    }
    let tokens = std::fs::read_to_string(tokens).context("reading the tokens file")?;
    let duration = Duration::from_secs(seconds.parse()?);
    let http = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + duration;
    let chains: Vec<_> = tokens
        .lines()
        .filter(|l| !l.is_empty())
        .map(|token| {
            let (http, url, token) = (http.clone(), url.clone(), token.to_owned());
            let authorization = format!("Basic {basic}");
            tokio::spawn(chain(http, url, authorization, token, deadline))
        })
        .collect();
    let (mut latencies, mut unexpected) = (Vec::new(), 0);
    for chain in chains {
        let (l, u) = chain.await?;
        latencies.extend(l);
        unexpected += u;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get(latencies.len() * p / 100)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let n = latencies.len() + unexpected;
    println!("  {n} requests in {elapsed:.2}s");
    println!("Requests/sec: {:.2}", n as f64 / elapsed);
    println!("     50%    {:.2}ms", percentile(50));
    println!("     99%    {:.2}ms", percentile(99));
    println!("unexpected {unexpected}");
    Ok(())
}

/// Rotates one chain until the deadline; returns the latencies of the rotations that
/// succeeded and the number that did not (a failed rotation ends the chain).
async fn chain(
    http: reqwest::Client,
    url: reqwest::Url,
    authorization: String,
    mut token: String,
    deadline: Instant,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let sent = Instant::now();
        let answer = http
            .post(url.clone())
            .header("authorization", &authorization)
            .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
            .send()
            .await;
        let next = match answer {
            Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await.ok(),
            _ => None,
        };
        match next.as_ref().and_then(|v| v["refresh_token"].as_str()) {
            Some(next) => {
                latencies.push(sent.elapsed());
                token = next.to_owned();
            }
            None => return (latencies, 1),
        }
    }
    (latencies, 0)
}
