-- Operators (accounts, console sessions, API keys) and the hash-chained audit trail.
CREATE TABLE admin_accounts (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    totp_secret TEXT,
    totp_pending TEXT,
    totp_last_step BIGINT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE admin_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES admin_accounts(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX admin_sessions_account ON admin_sessions(account_id);

CREATE TABLE admin_login_failures (
    id TEXT PRIMARY KEY NOT NULL,
    address TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX admin_login_failures_address ON admin_login_failures(address, at);

CREATE TABLE admin_api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE person_merges (
    source_id TEXT PRIMARY KEY NOT NULL REFERENCES persons(id),
    target_id TEXT NOT NULL REFERENCES persons(id),
    reason TEXT NOT NULL,
    merged_by TEXT NOT NULL,
    merged_at BIGINT NOT NULL
);

-- Written by request transactions without chain fields, so nothing on the hot path waits for
-- the chain; one chainer per deployment moves rows into audit_log in order.
CREATE TABLE audit_inbox (
    id BIGSERIAL PRIMARY KEY,
    time BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    person_id TEXT,
    data TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    time BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    client_id TEXT,
    person_id TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log(time);
CREATE INDEX audit_log_client ON audit_log(client_id);
CREATE INDEX audit_log_person ON audit_log(person_id);

-- A signed statement about a pruned prefix: its last seq and hash.
CREATE TABLE audit_checkpoints (
    through_seq BIGINT PRIMARY KEY NOT NULL,
    last_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    jws TEXT NOT NULL
);
