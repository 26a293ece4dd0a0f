-- The key sealing authorization codes has generations. Each sealed code names the generation
-- that sealed it; a new generation is published before it seals (so every node holds it
-- first) and the previous one keeps opening the codes sealed before the rotation. The single
-- key of earlier versions becomes generation 1, sealed under the key-encryption key as it was.
CREATE TABLE code_keys (
    generation BIGINT PRIMARY KEY NOT NULL,
    sealed_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activate_at BIGINT NOT NULL
);
INSERT INTO code_keys (generation, sealed_key, created_at, activate_at)
    SELECT 1, sealed_value, created_at, created_at FROM provider_secrets WHERE name = 'code_key';
DELETE FROM provider_secrets WHERE name = 'code_key';
