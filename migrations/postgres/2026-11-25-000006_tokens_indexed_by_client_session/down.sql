CREATE INDEX refresh_tokens_person ON refresh_tokens(person_id);
CREATE INDEX refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE INDEX access_tokens_person ON access_tokens(person_id);
CREATE INDEX access_tokens_grant ON access_tokens(grant_id);
