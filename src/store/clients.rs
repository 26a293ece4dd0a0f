//! The `clients` table: registered relying parties.

use diesel::prelude::*;

use super::schema::clients;
use super::{DbConn, StoreError};
use crate::domain::{AuthMethod, Client, ClientId, IdTokenAlg, Profile, RedirectUri, Scope};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = clients)]
#[diesel(treat_none_as_null = true)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
    pub sector_identifier_uri: Option<String>,
    pub sector: String,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub scopes: String,
    pub id_token_alg: String,
    pub logo_uri: Option<String>,
    pub tos_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub allow_verified_claims: bool,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub security_event_uri: Option<String>,
    pub profile: String,
    pub require_pushed_authorization_requests: bool,
    pub dpop_bound_access_tokens: bool,
    pub allow_shared_signals: bool,
}

impl ClientRow {
    pub fn from_client(c: &Client, created_at: i64, updated_at: i64) -> ClientRow {
        let uris = |v: &[RedirectUri]| {
            serde_json::to_string(&v.iter().map(|u| u.as_str()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".to_owned())
        };
        ClientRow {
            id: c.id.as_str().to_owned(),
            name: c.name.clone(),
            secret_hash: c.secret_hash.clone(),
            auth_method: c.auth_method.as_str().to_owned(),
            redirect_uris: uris(&c.redirect_uris),
            post_logout_redirect_uris: uris(&c.post_logout_redirect_uris),
            backchannel_logout_uri: c.backchannel_logout_uri.clone(),
            backchannel_logout_session_required: c.backchannel_logout_session_required,
            sector_identifier_uri: c.sector_identifier_uri.clone(),
            sector: c.sector.clone(),
            jwks: c.jwks.clone(),
            jwks_uri: c.jwks_uri.clone(),
            scopes: c.scopes.to_string(),
            id_token_alg: c.id_token_alg.as_str().to_owned(),
            logo_uri: c.logo_uri.clone(),
            tos_uri: c.tos_uri.clone(),
            policy_uri: c.policy_uri.clone(),
            allow_verified_claims: c.allow_verified_claims,
            enabled: c.enabled,
            created_at,
            updated_at,
            security_event_uri: c.security_event_uri.clone(),
            profile: c.profile.as_str().to_owned(),
            require_pushed_authorization_requests: c.require_pushed_authorization_requests,
            dpop_bound_access_tokens: c.dpop_bound_access_tokens,
            allow_shared_signals: c.allow_shared_signals,
        }
    }

    /// The domain client; a row that no longer parses is reported, not half-used.
    pub fn into_client(self) -> Result<Client, StoreError> {
        let bad = |what: &str| StoreError::Corrupt(format!("client {}: {what}", self.id));
        let uris = |json: &str| -> Result<Vec<RedirectUri>, StoreError> {
            let list: Vec<String> =
                serde_json::from_str(json).map_err(|e| bad(&format!("URI list: {e}")))?;
            list.iter()
                .map(|u| RedirectUri::parse(u).map_err(|e| bad(&format!("{u}: {e}"))))
                .collect()
        };
        Ok(Client {
            id: ClientId::parse(&self.id).ok_or_else(|| bad("id"))?,
            name: self.name,
            secret_hash: self.secret_hash,
            auth_method: AuthMethod::parse(&self.auth_method).ok_or_else(|| bad("auth method"))?,
            redirect_uris: uris(&self.redirect_uris)?,
            post_logout_redirect_uris: uris(&self.post_logout_redirect_uris)?,
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            sector_identifier_uri: self.sector_identifier_uri,
            sector: self.sector,
            jwks: self.jwks,
            jwks_uri: self.jwks_uri,
            scopes: Scope::parse(&self.scopes).ok_or_else(|| bad("scopes"))?,
            id_token_alg: IdTokenAlg::parse(&self.id_token_alg)
                .ok_or_else(|| bad("id_token_alg"))?,
            logo_uri: self.logo_uri,
            tos_uri: self.tos_uri,
            policy_uri: self.policy_uri,
            allow_verified_claims: self.allow_verified_claims,
            security_event_uri: self.security_event_uri,
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            profile: Profile::parse(&self.profile).ok_or_else(|| bad("profile"))?,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            allow_shared_signals: self.allow_shared_signals,
            enabled: self.enabled,
        })
    }
}

pub fn insert(conn: &mut DbConn, row: &ClientRow) -> QueryResult<()> {
    diesel::insert_into(clients::table)
        .values(row)
        .execute(conn)
        .map(drop)
}

pub fn get(conn: &mut DbConn, id: &str) -> QueryResult<Option<ClientRow>> {
    clients::table
        .find(id)
        .select(ClientRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ClientRow>> {
    clients::table
        .order(clients::name.asc())
        .select(ClientRow::as_select())
        .load(conn)
}

/// Replaces every column but `id` and `created_at`.
pub fn update(conn: &mut DbConn, row: &ClientRow) -> QueryResult<usize> {
    diesel::update(clients::table.find(&row.id))
        .set(row)
        .execute(conn)
}

pub fn set_secret_hash(conn: &mut DbConn, id: &str, hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(clients::table.find(id))
        .set((clients::secret_hash.eq(hash), clients::updated_at.eq(now)))
        .execute(conn)
}

/// Deletes a client and everything that only makes sense with it (run inside a transaction).
pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    use super::schema::{
        access_tokens, auth_requests, authorization_codes, challenges, client_sessions, consents,
        pushed_requests, refresh_tokens,
    };
    let requests = auth_requests::table
        .filter(auth_requests::client_id.eq(id))
        .select(auth_requests::id);
    diesel::delete(challenges::table.filter(challenges::auth_request_id.eq_any(requests)))
        .execute(conn)?;
    diesel::delete(auth_requests::table.filter(auth_requests::client_id.eq(id))).execute(conn)?;
    diesel::delete(authorization_codes::table.filter(authorization_codes::client_id.eq(id)))
        .execute(conn)?;
    diesel::delete(access_tokens::table.filter(access_tokens::client_id.eq(id))).execute(conn)?;
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::client_id.eq(id))).execute(conn)?;
    diesel::delete(consents::table.filter(consents::client_id.eq(id))).execute(conn)?;
    diesel::delete(pushed_requests::table.filter(pushed_requests::client_id.eq(id)))
        .execute(conn)?;
    diesel::delete(client_sessions::table.filter(client_sessions::client_id.eq(id)))
        .execute(conn)?;
    diesel::delete(clients::table.find(id)).execute(conn)
}
