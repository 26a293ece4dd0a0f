-- Sealed authorization codes carry their grant; issuing one stores nothing. Redeeming one
-- records it here, and the key keeps it single-use. Keyed by expiry first, so that each new
-- record lands on the last page of the table and expired ones go in one range.
CREATE TABLE spent_codes (
    expires_at BIGINT NOT NULL,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (expires_at, code_hash)
) WITHOUT ROWID;
