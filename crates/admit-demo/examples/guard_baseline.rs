//! The guard's cost on one route: the demo API's `GET /api/me` behind
//! admit-resource's `BearerLayer`, and `GET /open/me`, the same handler without the
//! guard, answering about a fixed token. Both in this one process, so that
//! `bench/load.sh` compares requests per CPU-second of the same program.
//!
//! `cargo run --release -p admit-demo --example guard_baseline -- 127.0.0.1:18091 ISSUER TOKEN`

use axum::routing::get;
use axum::{Json, Router};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(issuer), Some(token)) = (args.next(), args.next(), args.next()) else {
        panic!("usage: guard_baseline LISTEN ISSUER TOKEN");
    };
    // Configured as `admit serve --demo` configures its demo API.
    let verifier = admit_resource::Verifier::builder(&issuer, &issuer)
        .discover()
        .build()
        .await
        .expect("loading the issuer's keys");
    let claims = verifier.verify(&token).await.expect("a valid token");
    let open = Router::new().route(
        "/open/me",
        get(move || {
            let claims = claims.clone();
            async move { Json(admit_demo::who_you_are(&claims)) }
        }),
    );
    let app = admit_demo::router(verifier).merge(open);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .expect("binding");
    // Stops on SIGTERM by returning from main, so that a build with
    // `-Cprofile-generate` writes its profile (bench/pgo.sh).
    let mut term = signal(SignalKind::terminate()).expect("catching SIGTERM");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            term.recv().await;
        })
        .await
        .expect("serving");
}
