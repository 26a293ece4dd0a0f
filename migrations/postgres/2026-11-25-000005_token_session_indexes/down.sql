CREATE INDEX client_sessions_person ON client_sessions(person_id);
DROP INDEX client_sessions_person_live;
DROP INDEX refresh_tokens_client_session;
DROP INDEX access_tokens_client_session;
