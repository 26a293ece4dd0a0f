//! The common code exchange and refresh, each in one PostgreSQL statement.
//!
//! Redeeming a sealed code in a transaction takes seven round trips on PostgreSQL (`BEGIN`,
//! the client session, the spent code, the access token, the refresh token, the audit event,
//! `COMMIT`); a refresh takes eight. A single statement with data-modifying common table
//! expressions does the same work in one, and a single statement is atomic by itself: the code
//! or old refresh token is spent and the new tokens stored together, or nothing is written.
//!
//! The statements decide the common outcomes only. When the code or refresh token was not spent
//! now (presented before, or expired) they write nothing and say so, and the caller runs the
//! general transaction ([`super::grants::redeem_sealed_code`], the refresh in
//! `provider::grants`), which tells a replay from an expired code and revokes what a replay
//! issued. SQLite has no data-modifying CTEs; there the transaction always runs (its round
//! trips are function calls). The statements run on the asynchronous connection
//! ([`super::pg_async`]); where there is none (a URL only libpq understands) the transaction
//! runs as on SQLite.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::audit::NewInboxRow;
use super::grants::{AccessTokenRow, CodeRow, RefreshTokenRow};
use crate::domain::MyKeyId;

/// What both statements store: the new pair and its `token.issued` event. Their person is not
/// used by the code exchange, which takes it from the client session as the transaction does.
pub struct Issue<'a> {
    pub access: &'a AccessTokenRow,
    pub refresh: &'a RefreshTokenRow,
    pub event: &'a NewInboxRow<'a>,
}

/// What the one-statement code exchange did.
#[derive(Debug, PartialEq, Eq)]
pub enum AtOnce {
    /// The code was spent by this statement; when the caller's checks had passed, the tokens
    /// and the audit event were stored too. The client session names this person.
    Spent(MyKeyId),
    /// The client session has ended (the code was spent) or is gone (nothing was written).
    SessionEnded,
    /// The code names a client session of another client: nothing was written.
    Unknown,
    /// The code was not spent now (spent before, or expired): nothing was written, and the
    /// general transaction must decide.
    Undecided,
}

/// Spends the sealed `code` and, when `checks_passed` (client, redirect URI, PKCE), stores
/// `issue`, in one statement.
pub async fn redeem_sealed_and_issue(
    conn: &mut AsyncPgConnection,
    code: &CodeRow,
    checks_passed: bool,
    issue: &Issue<'_>,
) -> QueryResult<AtOnce> {
    let statement = ExchangeStatement {
        code,
        checks_passed,
        issue,
    };
    let (person, client, ended, spent): (Option<String>, Option<String>, Option<bool>, bool) =
        statement.get_result(conn).await?;
    Ok(match (person, client, ended) {
        (Some(person), Some(client), Some(ended)) => {
            if client != code.client_id {
                AtOnce::Unknown
            } else if !spent {
                AtOnce::Undecided
            } else if ended {
                AtOnce::SessionEnded
            } else {
                AtOnce::Spent(MyKeyId::from_stored(person))
            }
        }
        _ => AtOnce::SessionEnded,
    })
}

/// What the one-statement refresh did.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotated {
    /// The old token was spent and the new pair and the audit event stored.
    Issued,
    /// The old token was spent, but its client session has ended: nothing was issued.
    SessionEnded,
    /// The old token was not spent now (used, revoked or expired since it was read): nothing
    /// was written, and the general transaction must decide (it detects reuse).
    Undecided,
}

/// Spends the refresh token `old_hash` (rotation) and stores `issue` in one statement, when the
/// token is still unused and its client session live. The caller has read the token and made
/// every check on it (client, DPoP key, scope); the statement repeats only the conditions that
/// another request could change in between.
pub async fn rotate_refresh_token(
    conn: &mut AsyncPgConnection,
    old_hash: &str,
    issue: &Issue<'_>,
) -> QueryResult<Rotated> {
    let (spent, live): (bool, bool) = RefreshStatement { old_hash, issue }
        .get_result(conn)
        .await?;
    Ok(match (spent, live) {
        (true, true) => Rotated::Issued,
        (true, false) => Rotated::SessionEnded,
        (false, _) => Rotated::Undecided,
    })
}

/// The code exchange, with a static query id so the connection keeps it prepared. Each value
/// is bound once, in the first CTE `p`, and named there.
struct ExchangeStatement<'a> {
    code: &'a CodeRow,
    checks_passed: bool,
    issue: &'a Issue<'a>,
}

/// The refresh, kept prepared in the same way.
struct RefreshStatement<'a> {
    old_hash: &'a str,
    issue: &'a Issue<'a>,
}

/// After `p`: the client session, the spent code, and `granted` (the person) when this
/// statement spent the code, the session is live and the checks passed.
const EXCHANGE_SQL: &str = "
), cs AS (
    SELECT s.person_id, s.client_id, s.ended_at FROM client_sessions s, p
    WHERE s.id = p.client_session_id
), spent AS (
    INSERT INTO spent_codes (expires_at, code_hash)
    SELECT p.code_expires_at, p.code_hash FROM p, cs
    WHERE cs.client_id = p.code_client_id AND p.code_expires_at > p.now
    ON CONFLICT DO NOTHING
    RETURNING 1
), granted AS (
    SELECT cs.person_id FROM cs, p
    WHERE cs.ended_at IS NULL AND p.checks_passed AND EXISTS (SELECT 1 FROM spent)";

const EXCHANGE_RESULT_SQL: &str = "
SELECT cs.person_id, cs.client_id, cs.ended_at IS NOT NULL, EXISTS (SELECT 1 FROM spent)
FROM p LEFT JOIN cs ON true";

/// After `p`: the old token spent (rotation decides here), and `granted` (the person) when its
/// client session is live.
const REFRESH_SQL: &str = "
), used AS (
    UPDATE refresh_tokens r SET used_at = p.now FROM p
    WHERE r.token_hash = p.old_hash AND r.used_at IS NULL AND r.revoked_at IS NULL
        AND r.expires_at > p.now
    RETURNING r.client_session_id
), granted AS (
    SELECT p.person_id FROM used JOIN client_sessions s ON s.id = used.client_session_id, p
    WHERE s.ended_at IS NULL";

const REFRESH_RESULT_SQL: &str = "
SELECT EXISTS (SELECT 1 FROM used), EXISTS (SELECT 1 FROM granted)";

/// The new pair and its event, stored once for the one row of `granted`, if any.
const ISSUE_SQL: &str = "
), access AS (
    INSERT INTO access_tokens (token_hash, grant_id, client_id, client_session_id, person_id,
        scope, claims, created_at, expires_at, revoked_at, verification_id, dpop_jkt)
    SELECT p.access_hash, p.grant_id, p.client_id, p.client_session_id, g.person_id,
        p.scope, p.claims, p.now, p.access_expires_at, NULL, NULL, p.dpop_jkt
    FROM granted g, p
), refresh AS (
    INSERT INTO refresh_tokens (token_hash, grant_id, client_id, client_session_id, person_id,
        scope, claims, auth_time, amr, acr, created_at, expires_at, used_at, revoked_at,
        verification_id, dpop_jkt)
    SELECT p.refresh_hash, p.grant_id, p.client_id, p.client_session_id, g.person_id,
        p.scope, p.claims, p.auth_time, p.amr, p.acr, p.now, p.refresh_expires_at, NULL, NULL,
        NULL, p.dpop_jkt
    FROM granted g, p
), event AS (
    INSERT INTO audit_inbox (time, kind, actor, client_id, person_id, data)
    SELECT p.now, p.event_kind, p.event_actor, p.client_id, g.person_id, p.event_data
    FROM granted g, p
)";

/// Binds the values of [`ISSUE_SQL`] as columns of `p`, each after a comma.
fn bind_issue<'b>(out: &mut AstPass<'_, 'b, Pg>, issue: &'b Issue<'b>) -> QueryResult<()> {
    let (access, refresh, event) = (issue.access, issue.refresh, issue.event);
    out.push_sql(", ");
    out.push_bind_param::<BigInt, _>(&access.created_at)?;
    out.push_sql(" AS now, ");
    out.push_bind_param::<Text, _>(&access.client_id)?;
    out.push_sql(" AS client_id, ");
    out.push_bind_param::<Text, _>(&access.client_session_id)?;
    out.push_sql(" AS client_session_id, ");
    out.push_bind_param::<Text, _>(&access.grant_id)?;
    out.push_sql(" AS grant_id, ");
    out.push_bind_param::<Text, _>(&access.scope)?;
    out.push_sql(" AS scope, ");
    out.push_bind_param::<Nullable<Text>, _>(&access.claims)?;
    out.push_sql(" AS claims, ");
    out.push_bind_param::<Nullable<Text>, _>(&access.dpop_jkt)?;
    out.push_sql(" AS dpop_jkt, ");
    out.push_bind_param::<Text, _>(&access.token_hash)?;
    out.push_sql(" AS access_hash, ");
    out.push_bind_param::<BigInt, _>(&access.expires_at)?;
    out.push_sql(" AS access_expires_at, ");
    out.push_bind_param::<Text, _>(&refresh.token_hash)?;
    out.push_sql(" AS refresh_hash, ");
    out.push_bind_param::<BigInt, _>(&refresh.expires_at)?;
    out.push_sql(" AS refresh_expires_at, ");
    out.push_bind_param::<BigInt, _>(&refresh.auth_time)?;
    out.push_sql(" AS auth_time, ");
    out.push_bind_param::<Text, _>(&refresh.amr)?;
    out.push_sql(" AS amr, ");
    out.push_bind_param::<Text, _>(&refresh.acr)?;
    out.push_sql(" AS acr, ");
    out.push_bind_param::<Text, _>(&event.kind)?;
    out.push_sql(" AS event_kind, ");
    out.push_bind_param::<Text, _>(&event.actor)?;
    out.push_sql(" AS event_actor, ");
    out.push_bind_param::<Text, _>(&event.data)?;
    out.push_sql(" AS event_data");
    Ok(())
}

impl QueryId for ExchangeStatement<'_> {
    type QueryId = ExchangeStatement<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for ExchangeStatement<'_> {
    type SqlType = (Nullable<Text>, Nullable<Text>, Nullable<Bool>, Bool);
}

impl QueryFragment<Pg> for ExchangeStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let code = self.code;
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<BigInt, _>(&code.expires_at)?;
        out.push_sql(" AS code_expires_at, ");
        out.push_bind_param::<Text, _>(&code.code_hash)?;
        out.push_sql(" AS code_hash, ");
        out.push_bind_param::<Text, _>(&code.client_id)?;
        out.push_sql(" AS code_client_id, ");
        out.push_bind_param::<Bool, _>(&self.checks_passed)?;
        out.push_sql(" AS checks_passed");
        bind_issue(&mut out, self.issue)?;
        out.push_sql(EXCHANGE_SQL);
        out.push_sql(ISSUE_SQL);
        out.push_sql(EXCHANGE_RESULT_SQL);
        Ok(())
    }
}

impl QueryId for RefreshStatement<'_> {
    type QueryId = RefreshStatement<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RefreshStatement<'_> {
    type SqlType = (Bool, Bool);
}

impl QueryFragment<Pg> for RefreshStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<Text, _>(&self.old_hash)?;
        out.push_sql(" AS old_hash, ");
        out.push_bind_param::<Text, _>(&self.issue.access.person_id)?;
        out.push_sql(" AS person_id");
        bind_issue(&mut out, self.issue)?;
        out.push_sql(REFRESH_SQL);
        out.push_sql(ISSUE_SQL);
        out.push_sql(REFRESH_RESULT_SQL);
        Ok(())
    }
}
