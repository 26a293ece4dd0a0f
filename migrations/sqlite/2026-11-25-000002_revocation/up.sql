-- Revocation data, renewal linkage, terminations and the back-channel delivery outbox.

-- The newest CRL of each root, kept whole (it is the signed revoked set).
CREATE TABLE crls (
    root_key_id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    crl_number TEXT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL,
    entry_count BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    der BLOB NOT NULL,
    source TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);

-- Every CRL offered, imported or refused.
CREATE TABLE crl_imports (
    id TEXT PRIMARY KEY NOT NULL,
    sha256 TEXT NOT NULL,
    root_key_id TEXT,
    crl_number TEXT,
    this_update BIGINT,
    next_update BIGINT,
    entry_count BIGINT,
    newly_revoked BIGINT NOT NULL,
    no_longer_listed BIGINT NOT NULL,
    terminated BIGINT NOT NULL,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    imported_at BIGINT NOT NULL
);
CREATE INDEX crl_imports_sha256 ON crl_imports(sha256);
CREATE INDEX crl_imports_time ON crl_imports(imported_at);

-- Conditional-GET state of polled CRL URLs.
CREATE TABLE crl_fetches (
    url TEXT PRIMARY KEY NOT NULL,
    etag TEXT,
    last_modified TEXT,
    fetched_at BIGINT NOT NULL,
    status TEXT NOT NULL
);

-- Old → new certificate records (J-LIS 新旧紐付け).
CREATE TABLE linkages (
    id TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL,
    old_issuer_key_id TEXT NOT NULL,
    old_serial TEXT NOT NULL,
    new_issuer_key_id TEXT NOT NULL,
    new_serial TEXT NOT NULL,
    linked_at BIGINT NOT NULL,
    imported_at BIGINT NOT NULL,
    person_id TEXT,
    UNIQUE (old_issuer_key_id, old_serial, new_issuer_key_id, new_serial)
);
CREATE INDEX linkages_old ON linkages(old_issuer_key_id, old_serial);

-- A person logged out everywhere because a bound certificate was revoked.
CREATE TABLE terminations (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL,
    binding_id TEXT NOT NULL,
    root_key_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    reason TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    crl_number TEXT NOT NULL,
    sessions_ended BIGINT NOT NULL,
    terminated_at BIGINT NOT NULL
);
CREATE INDEX terminations_time ON terminations(terminated_at);

-- Durable deliveries to relying parties (back-channel logout tokens, security events).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    target_uri TEXT NOT NULL,
    client_session_id TEXT,
    person_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    locked_until BIGINT,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_client ON outbox(client_id, status);

-- Who does the single-leader background work (folder watch, URL polling, expiry sweeps).
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX bindings_root_status ON bindings(issuer_key_id, status);
CREATE INDEX browser_sessions_expiry ON browser_sessions(ended_at, expires_at);
