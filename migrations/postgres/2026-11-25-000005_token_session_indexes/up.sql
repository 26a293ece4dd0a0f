-- Ending a session revokes its tokens by client session, and a revoked certificate ends a
-- person's live client sessions: index both lookups.
CREATE INDEX access_tokens_client_session ON access_tokens(client_session_id);
CREATE INDEX refresh_tokens_client_session ON refresh_tokens(client_session_id);
CREATE INDEX client_sessions_person_live ON client_sessions(person_id, ended_at);
DROP INDEX client_sessions_person;
