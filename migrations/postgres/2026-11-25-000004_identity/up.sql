-- Identity verification: facts read from a signature certificate, kept sealed only as long as
-- the grant (or the configured retention) needs them, and who received them.
CREATE TABLE verifications (
    id TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES persons(id),
    sign_binding_id TEXT NOT NULL,
    sealed_facts TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX verifications_person ON verifications(person_id);
CREATE INDEX verifications_binding ON verifications(sign_binding_id);

CREATE TABLE fact_releases (
    id TEXT PRIMARY KEY NOT NULL,
    verification_id TEXT NOT NULL,
    sign_binding_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    released_at BIGINT NOT NULL
);
CREATE INDEX fact_releases_binding ON fact_releases(sign_binding_id);

ALTER TABLE challenges ADD COLUMN verification_id TEXT;
ALTER TABLE auth_requests ADD COLUMN verification_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN verification_id TEXT;
ALTER TABLE access_tokens ADD COLUMN verification_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN verification_id TEXT;
ALTER TABLE clients ADD COLUMN security_event_uri TEXT;
