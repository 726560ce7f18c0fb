//! The OpenAPI 3.1 document of the admin API, generated from the handlers'
//! `#[utoipa::path]` attributes as the router is built (utoipa-axum registers each
//! route and its description together, so neither can drift from the other), and
//! served unauthenticated at `/admin/openapi.json`: it holds no secret, and tools
//! need it before they hold a token.
//!
//! Responses every operation shares (400, 401, 403, 503; 413 and 415 where a body
//! is read) are added here once rather than repeated on each handler.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "admit admin API",
        description = "Manage admit's users, clients, signing keys, sessions, consents and \
            audit log. Authenticate with an access token admit issued to a client through \
            client credentials with the `admin` scope: `Authorization: Bearer <token>`. \
            Errors are RFC 9457 problem details. Single resources carry an `ETag`; send it \
            back in `If-Match` to change or remove only the version you read (412 otherwise). \
            Lists take `limit` and `cursor` and return `next_cursor` and a `Link` header."
    ),
    components(schemas(super::problem::Problem)),
    tags(
        (name = "users"), (name = "clients"), (name = "keys"), (name = "sessions"),
        (name = "consents"), (name = "audit"), (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "get_openapi_document",
    tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub async fn document(
    State(state): State<AppState>,
    Extension(doc): Extension<Arc<Value>>,
) -> axum::Json<Value> {
    let mut doc = (*doc).clone();
    // The token endpoint is the issuer's: known only once the server runs.
    let token_url = format!("{}/oauth2/token", state.settings().issuer);
    doc["components"]["securitySchemes"]["admin_token"]["flows"]["clientCredentials"]["tokenUrl"] =
        Value::String(token_url);
    axum::Json(doc)
}

/// The generated document with the security scheme and the shared responses.
pub fn finish(api: utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).expect("an OpenAPI document serialises");
    doc["components"]["securitySchemes"] = json!({
        "admin_token": {
            "type": "oauth2",
            "description": "An access token from admit's token endpoint (client \
                credentials), carrying the admin scope",
            "flows": {"clientCredentials": {
                "tokenUrl": "/oauth2/token",
                "scopes": {"admin": "Manage admit through this API"}
            }}
        }
    });
    doc["security"] = json!([{"admin_token": ["admin"]}]);
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }}
        })
    };
    let auth_problem = |description: &str| {
        let mut response = problem(description);
        response["headers"] = json!({"WWW-Authenticate": {
            "description": "The RFC 6750 §3 challenge",
            "schema": {"type": "string"}
        }});
        response
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            // Only this document itself overrides the security requirement.
            if op.get("security").is_some() {
                continue;
            }
            let has_body = op.get("requestBody").is_some();
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            let mut add = |status: &str, response: Value| {
                responses.entry(status).or_insert(response);
            };
            add(
                "400",
                auth_problem("A malformed request or Authorization header"),
            );
            add(
                "401",
                auth_problem("No access token, or one invalid, expired or revoked"),
            );
            add(
                "403",
                auth_problem("The token lacks the admin scope, or is a user's"),
            );
            add("503", problem("The database is briefly unavailable"));
            if has_body {
                add("413", problem("The body exceeds 64 KiB"));
                add("415", problem("The body is not JSON"));
            }
        }
    }
    doc
}
