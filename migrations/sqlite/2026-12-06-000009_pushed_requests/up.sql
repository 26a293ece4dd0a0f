-- FAPI 2.0: a client's security profile ('oidc' or 'fapi2') and whether it must push its
-- authorization requests (RFC 9126 §6).
ALTER TABLE clients ADD COLUMN profile TEXT NOT NULL DEFAULT 'oidc';
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests BOOLEAN NOT NULL DEFAULT FALSE;
-- Pushed authorization requests (RFC 9126 §2): the parameters a client pushed, found again by
-- the SHA-256 of the random part of their request_uri; single use (used_at), bound to the
-- client, short-lived.
CREATE TABLE pushed_requests (
    uri_hash TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);
