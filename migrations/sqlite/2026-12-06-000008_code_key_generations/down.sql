-- Generation 1 goes back to where earlier versions look for the code key (a later generation
-- cannot: earlier versions open only the key sealed under the name 'code_key').
INSERT INTO provider_secrets (name, sealed_value, created_at)
    SELECT 'code_key', sealed_key, created_at FROM code_keys WHERE generation = 1;
DROP TABLE code_keys;
