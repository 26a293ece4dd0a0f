-- Core provider schema. Times are Unix seconds (BIGINT); ids are random text.
CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    auth_method TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri TEXT,
    backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT 1,
    sector_identifier_uri TEXT,
    sector TEXT NOT NULL,
    jwks TEXT,
    jwks_uri TEXT,
    scopes TEXT NOT NULL,
    id_token_alg TEXT NOT NULL,
    logo_uri TEXT,
    tos_uri TEXT,
    policy_uri TEXT,
    allow_verified_claims BOOLEAN NOT NULL DEFAULT 0,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE persons (
    id TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE bindings (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    purpose TEXT NOT NULL,
    issuer_key_id TEXT NOT NULL,
    serial TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    status TEXT NOT NULL,
    revoked_reason TEXT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (issuer_key_id, serial)
);
CREATE INDEX bindings_person ON bindings(person_id);

CREATE TABLE browser_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    cookie_hash TEXT NOT NULL UNIQUE,
    person_id TEXT NOT NULL REFERENCES persons(id),
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT
);
CREATE INDEX browser_sessions_person ON browser_sessions(person_id);

CREATE TABLE client_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    session_id TEXT NOT NULL REFERENCES browser_sessions(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    person_id TEXT NOT NULL REFERENCES persons(id),
    created_at BIGINT NOT NULL,
    ended_at BIGINT,
    UNIQUE (session_id, client_id)
);
CREATE INDEX client_sessions_client ON client_sessions(client_id);
CREATE INDEX client_sessions_person ON client_sessions(person_id);

CREATE TABLE auth_requests (
    id TEXT PRIMARY KEY NOT NULL,
    cookie_hash TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients(id),
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    state TEXT,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    prompt TEXT,
    max_age BIGINT,
    ui_locales TEXT,
    acr_values TEXT,
    claims TEXT,
    session_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE challenges (
    id TEXT PRIMARY KEY NOT NULL,
    auth_request_id TEXT NOT NULL REFERENCES auth_requests(id),
    nonce TEXT NOT NULL,
    purpose TEXT NOT NULL,
    match_code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    person_id TEXT,
    answered_at BIGINT,
    consumed_at BIGINT
);
CREATE INDEX challenges_request ON challenges(auth_request_id);

CREATE TABLE consents (
    person_id TEXT NOT NULL REFERENCES persons(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    scope TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, client_id)
);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    claims TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    redeemed_at BIGINT
);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
CREATE INDEX access_tokens_person ON access_tokens(person_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT,
    auth_time BIGINT NOT NULL,
    amr TEXT NOT NULL,
    acr TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE INDEX refresh_tokens_person ON refresh_tokens(person_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    alg TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activate_at BIGINT NOT NULL,
    retired_at BIGINT
);

CREATE TABLE assertion_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);

CREATE TABLE provider_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    sealed_value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
