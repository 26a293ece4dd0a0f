//! The OpenAPI 3.1 description of the admin API, written by hand next to the handlers (a test
//! calls every operation and checks the real answers against these schemas).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::{caller, ok, Result, BODY_LIMIT};
use crate::admin::revocation::UPLOAD_LIMIT;
use crate::provider::Provider;

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn body(name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": r(name) } } })
}

fn answer(description: &str, schema: Option<Value>) -> Value {
    match schema {
        Some(s) => {
            json!({ "description": description, "content": { "application/json": { "schema": s } } })
        }
        None => json!({ "description": description }),
    }
}

fn query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } })
}

fn path_id() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } })
}

/// An operation: summary, the role it needs, parameters, body, success status and schema.
fn op(
    summary: &str,
    admin: bool,
    params: Vec<Value>,
    request: Option<Value>,
    status: &str,
    schema: Option<Value>,
) -> Value {
    let mut responses = json!({
        "401": answer("No or an unknown API key", Some(r("Error"))),
    });
    responses[status] = answer("Success", schema);
    if admin {
        responses["403"] = answer("The key's role is viewer", Some(r("Error")));
    }
    let mut o = json!({
        "summary": summary,
        "x-required-role": if admin { "admin" } else { "viewer" },
        "parameters": params,
        "responses": responses,
    });
    if let Some(b) = request {
        o["requestBody"] = b;
        o["responses"]["422"] = answer("Invalid input", Some(r("Error")));
        let limit = format!("The body is larger than {} KB", BODY_LIMIT >> 10);
        o["responses"]["413"] = answer(&limit, Some(r("Error")));
    }
    o
}

fn list_of(key: &str, item: &str) -> Value {
    json!({ "type": "object", "required": [key], "properties": { key: { "type": "array", "items": r(item) } } })
}

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}

fn schemas() -> Value {
    let s = |t: &str| json!({ "type": t });
    json!({
        "Error": { "type": "object", "required": ["error", "error_description"], "properties": {
            "error": s("string"), "error_description": s("string"),
            "fields": { "type": "array", "items": { "type": "object", "required": ["field", "message"],
                "properties": { "field": s("string"), "message": s("string") } } } } },
        "ClientSpec": { "type": "object", "required": ["name", "redirect_uris"], "additionalProperties": false, "properties": {
            "name": s("string"), "redirect_uris": { "type": "array", "items": s("string") },
            "post_logout_redirect_uris": { "type": "array", "items": s("string") },
            "backchannel_logout_uri": nullable("string"), "backchannel_logout_session_required": nullable("boolean"),
            "sector_identifier_uri": nullable("string"),
            "auth_method": { "type": ["string", "null"], "enum": ["client_secret_basic", "client_secret_post", "private_key_jwt", null] },
            "jwks": nullable("string"), "jwks_uri": nullable("string"), "scopes": nullable("string"),
            "id_token_alg": { "type": ["string", "null"], "enum": ["RS256", "PS256", "ES256", null] },
            "logo_uri": nullable("string"), "tos_uri": nullable("string"), "policy_uri": nullable("string"),
            "allow_verified_claims": nullable("boolean"), "security_event_uri": nullable("string"),
            "require_pushed_authorization_requests": nullable("boolean"),
            "profile": { "type": ["string", "null"], "enum": ["oidc", "fapi2", null] },
            "dpop_bound_access_tokens": nullable("boolean"),
            "allow_shared_signals": nullable("boolean"),
            "enabled": nullable("boolean") } },
        "Client": { "type": "object", "required": ["client_id", "issuer", "discovery_url", "sector", "spec"], "properties": {
            "client_id": s("string"), "issuer": s("string"), "discovery_url": s("string"), "sector": s("string"),
            "spec": r("ClientSpec"), "client_secret": nullable("string") } },
        "Secret": { "type": "object", "required": ["client_id", "client_secret"], "properties": {
            "client_id": s("string"), "client_secret": s("string") } },
        "Session": { "type": "object", "required": ["session_id", "client_session_id", "client_id", "person_id", "auth_time", "expires_at"], "properties": {
            "session_id": s("string"), "client_session_id": s("string"), "client_id": s("string"), "person_id": s("string"),
            "auth_time": s("integer"), "expires_at": s("integer") } },
        "Ended": { "type": "object", "required": ["ended_client_sessions"], "properties": { "ended_client_sessions": s("integer") } },
        "Person": { "type": "object", "required": ["id", "bindings", "live_sessions", "merged_into"], "properties": {
            "id": s("string"), "live_sessions": s("integer"), "merged_into": nullable("string"),
            "bindings": { "type": "array", "items": { "type": "object", "required": ["purpose", "issuer_key_id", "serial", "not_after", "status"], "properties": {
                "purpose": s("string"), "issuer_key_id": s("string"), "serial": s("string"), "not_after": s("integer"),
                "status": { "type": "string", "enum": ["active", "revoked", "superseded"] }, "revoked_reason": nullable("string") } } } } },
        "Merge": { "type": "object", "required": ["source", "target", "reason"], "additionalProperties": false, "properties": {
            "source": s("string"), "target": s("string"), "reason": s("string") } },
        "Moved": { "type": "object", "required": ["moved"], "properties": { "moved": s("integer") } },
        "Key": { "type": "object", "required": ["kid", "alg", "state", "activate_at", "retired_at"], "properties": {
            "kid": s("string"), "alg": { "type": "string", "enum": ["RS256", "PS256", "ES256"] },
            "state": { "type": "string", "enum": ["current", "next", "retiring", "retired"] },
            "activate_at": s("integer"), "retired_at": nullable("integer") } },
        "Rotate": { "type": "object", "required": ["alg"], "additionalProperties": false, "properties": {
            "alg": { "type": "string", "enum": ["RS256", "PS256", "ES256"] }, "lead_time": s("integer") } },
        "Rotated": { "type": "object", "required": ["kid"], "properties": { "kid": s("string") } },
        "AuditEntry": { "type": "object", "required": ["seq", "time", "time_rfc3339", "kind", "actor", "client_id", "person_id", "data", "data_text", "prev_hash", "hash"], "properties": {
            "seq": s("integer"), "time": s("integer"), "time_rfc3339": s("string"), "kind": s("string"), "actor": s("string"),
            "client_id": nullable("string"), "person_id": nullable("string"), "data": s("object"), "data_text": s("string"),
            "prev_hash": s("string"), "hash": s("string") } },
        "Verification": { "type": "object", "required": ["ok", "report"], "properties": {
            "ok": s("boolean"),
            "report": { "type": "object", "required": ["entries", "checkpoint_seq", "head_seq", "head_hash", "broken"], "properties": {
                "entries": s("integer"), "checkpoint_seq": s("integer"), "head_seq": s("integer"), "head_hash": s("string"),
                "broken": { "type": ["object", "null"], "required": ["seq", "reason"], "properties": { "seq": s("integer"), "reason": s("string") } } } } } },
        "ApiKey": { "type": "object", "required": ["id", "name", "role", "created_by", "created_at", "last_used_at", "revoked_at"], "properties": {
            "id": s("string"), "name": s("string"), "role": { "type": "string", "enum": ["admin", "viewer"] }, "created_by": s("string"),
            "created_at": s("integer"), "last_used_at": nullable("integer"), "revoked_at": nullable("integer") } },
        "NewApiKey": { "type": "object", "required": ["name", "role"], "additionalProperties": false, "properties": {
            "name": s("string"), "role": { "type": "string", "enum": ["admin", "viewer"] } } },
        "Revocation": { "type": "object", "required": ["roots", "imports", "terminations", "deliveries"], "properties": {
            "roots": { "type": "array", "items": { "type": "object", "required": ["root_key_id", "purpose", "crl_number", "this_update", "next_update", "entries", "freshness"], "properties": {
                "root_key_id": s("string"), "purpose": s("string"), "crl_number": s("string"), "this_update": s("integer"), "next_update": s("integer"),
                "entries": s("integer"), "freshness": { "type": "string", "enum": ["fresh", "in_grace", "stale", "missing"] } } } },
            "imports": { "type": "array", "items": { "type": "object", "required": ["outcome", "source", "imported_at"], "properties": {
                "root_key_id": nullable("string"), "crl_number": nullable("string"), "outcome": s("string"), "error": nullable("string"),
                "newly_revoked": s("integer"), "terminated": s("integer"), "source": s("string"), "imported_at": s("integer") } } },
            "terminations": { "type": "array", "items": { "type": "object", "required": ["person_id", "serial", "reason", "crl_number", "sessions_ended", "terminated_at"], "properties": {
                "person_id": s("string"), "serial": s("string"), "reason": s("string"), "crl_number": s("string"), "sessions_ended": s("integer"), "terminated_at": s("integer") } } },
            "deliveries": { "type": "array", "items": { "type": "object", "required": ["client_id", "status", "count"], "properties": {
                "client_id": s("string"), "status": s("string"), "count": s("integer") } } } } },
        "CrlReport": { "type": "object", "required": ["root_key_id", "purpose", "crl_number", "entries", "newly_revoked", "no_longer_listed", "terminated", "superseded", "sessions_ended"], "properties": {
            "root_key_id": s("string"), "purpose": s("string"), "crl_number": s("string"), "entries": s("integer"), "newly_revoked": s("integer"),
            "no_longer_listed": s("integer"), "terminated": s("integer"), "superseded": s("integer"), "sessions_ended": s("integer") } },
        "LinkageFile": { "type": "object", "required": ["format", "records"], "properties": {
            "format": { "type": "string", "enum": ["mykey-linkage/1"] }, "records": { "type": "array", "items": s("object") } } },
        "LinkageReport": { "type": "object", "required": ["records", "linked", "duplicates", "unknown_old", "conflicts"], "properties": {
            "records": s("integer"), "linked": s("integer"), "duplicates": s("integer"), "unknown_old": s("integer"), "conflicts": s("integer") } },
        "CreatedApiKey": { "type": "object", "required": ["api_key", "secret"], "properties": { "api_key": r("ApiKey"), "secret": s("string") } },
    })
}

fn crl_upload() -> Value {
    let mut o = op(
        "Import a CRL (DER or PEM); revoked persons are logged out everywhere",
        true,
        vec![],
        None,
        "200",
        Some(r("CrlReport")),
    );
    o["requestBody"] = json!({ "required": true, "content": {
        "application/pkix-crl": { "schema": { "type": "string", "contentMediaType": "application/pkix-crl" } },
        "application/x-pem-file": { "schema": { "type": "string" } } } });
    o["responses"]["422"] = answer(
        "Refused (signature, issuer, rollback, stale, already seen)",
        Some(r("Error")),
    );
    o["responses"]["413"] = too_large();
    o
}

fn linkage_upload() -> Value {
    let mut o = op(
        "Import a mykey-linkage/1 document",
        true,
        vec![],
        Some(body("LinkageFile")),
        "200",
        Some(r("LinkageReport")),
    );
    o["responses"]["413"] = too_large();
    o
}

/// The answer to an upload over the limit (checked after the key, before anything is kept).
fn too_large() -> Value {
    let limit = format!("The body is larger than {} MB", UPLOAD_LIMIT >> 20);
    answer(&limit, Some(r("Error")))
}

/// The whole document; `server` is the issuer.
pub fn document(issuer: &str) -> Value {
    let audit_filters = || {
        vec![
            query("from", "Unix seconds or RFC 3339"),
            query("to", "Unix seconds or RFC 3339"),
            query("actor", "e.g. admin:alice"),
            query("kind", "e.g. token.issued"),
            query("client_id", ""),
            query("person_id", ""),
        ]
    };
    let mut search = audit_filters();
    search.push(json!({ "name": "before", "in": "query", "required": false, "description": "entries with a smaller seq", "schema": { "type": "integer" } }));
    search.push(json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } }));
    let mut export = op(
        "Export matching entries as JSON Lines, oldest first",
        false,
        audit_filters(),
        None,
        "200",
        None,
    );
    export["responses"]["200"] = json!({ "description": "One AuditEntry per line", "content": { "application/jsonl": { "itemSchema": r("AuditEntry") } } });
    json!({
        "openapi": "3.1.0",
        "info": { "title": "mykey-connect admin API", "version": "1",
            "description": "Operators' API: the same operations as the console. Authenticate with `Authorization: Bearer mkc_…` (create keys in the console or with `mykey-connect admin api-key create`)." },
        "servers": [{ "url": format!("{issuer}/admin/api/v1") }],
        "security": [{ "apiKey": [] }],
        "paths": {
            "/openapi.json": { "get": op("This document", false, vec![], None, "200", Some(json!({ "type": "object" }))) },
            "/clients": {
                "get": op("List clients", false, vec![query("q", "matches name, id or redirect URI")], None, "200", Some(list_of("clients", "Client"))),
                "post": op("Register a client; the secret is returned once", true, vec![], Some(body("ClientSpec")), "201", Some(r("Client"))),
            },
            "/clients/{id}": {
                "get": op("One client", false, vec![path_id()], None, "200", Some(r("Client"))),
                "put": op("Replace a client's settings (id and secret kept)", true, vec![path_id()], Some(body("ClientSpec")), "200", Some(r("Client"))),
                "delete": op("Delete a client with its consents, sessions and tokens", true, vec![path_id()], None, "204", None),
            },
            "/clients/{id}/secret": { "post": op("Issue a new secret (returned once); the old one stops working", true, vec![path_id()], None, "200", Some(r("Secret"))) },
            "/sessions": { "get": op("Live sessions", false, vec![query("client_id", "only this client's")], None, "200", Some(list_of("sessions", "Session"))) },
            "/sessions/{id}": { "delete": op("End a browser session and its client sessions", true, vec![path_id()], None, "200", Some(r("Ended"))) },
            "/persons": { "get": op("Find persons by a client's pairwise sub or by certificate serial", false,
                vec![query("client_id", ""), query("sub", "pairwise sub at client_id"), query("serial", "certificate serial (hex)")], None, "200", Some(list_of("persons", "Person"))) },
            "/persons/{id}": { "get": op("One person", false, vec![path_id()], None, "200", Some(r("Person"))) },
            "/persons/merge": { "post": op("Merge source into target after a renewal without linkage", true, vec![], Some(body("Merge")), "200", Some(r("Moved"))) },
            "/keys": { "get": op("Signing keys", false, vec![], None, "200", Some(list_of("keys", "Key"))) },
            "/keys/rotate": { "post": op("Publish a new signing key now; it signs after the lead time", true, vec![], Some(body("Rotate")), "201", Some(r("Rotated"))) },
            "/revocation": { "get": op("CRL freshness per root, recent imports and terminations, delivery counts", false, vec![], None, "200", Some(r("Revocation"))) },
            "/crls": { "post": crl_upload() },
            "/linkage": { "post": linkage_upload() },
            "/audit": { "get": op("Audit entries, newest first", false, search, None, "200", Some(list_of("entries", "AuditEntry"))) },
            "/audit/export": { "get": export },
            "/audit/verify": { "get": op("Chain pending entries and verify the whole chain", false, vec![], None, "200", Some(r("Verification"))) },
            "/api-keys": {
                "get": op("API keys (never their secrets)", false, vec![], None, "200", Some(list_of("api_keys", "ApiKey"))),
                "post": op("Create an API key; the secret is returned once", true, vec![], Some(body("NewApiKey")), "201", Some(r("CreatedApiKey"))),
            },
            "/api-keys/{id}": { "delete": op("Revoke an API key", true, vec![path_id()], None, "204", None) },
        },
        "components": {
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas(),
        },
    })
}

/// `GET /admin/api/v1/openapi.json` (for key holders, like every admin route).
pub async fn serve(p: web::Data<Provider>, req: HttpRequest) -> Result<HttpResponse> {
    caller(&p, &req, false).await?;
    Ok(ok(
        actix_web::http::StatusCode::OK,
        document(p.settings.issuer_str()),
    ))
}
