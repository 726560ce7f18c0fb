//! End-to-end tests: the real server on a loopback port, provisioned with the real
//! CLI binary, driven over HTTP the way a client library would.

mod admin_api;
mod attacks;
mod audit_log;
mod browser;
mod browser_demo;
mod cli;
mod code_flow;
mod code_flow_errors;
mod config_as_code;
mod discovery;
mod errors;
mod harness;
mod interop;
mod interop_oidc;
mod keys;
mod lifecycle;
mod login_limits;
mod operations;
mod password_flow;
mod postgres;
mod resource_cache;
mod resource_modes;
mod revocation_stream;
mod scale_out;
mod serve_binary;
