-- DPoP (RFC 9449): tokens bound to the thumbprint of the client's proof key, clients that must
-- always bind, and the proof ids seen, kept until the proof would be refused for its age.
ALTER TABLE access_tokens ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE dpop_proofs (
    jkt TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (jkt, jti)
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs(expires_at);
