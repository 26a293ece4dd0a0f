-- The periodic purge deletes by expiry, in small batches. Without these indexes every pass read
-- each token and authorization request (on SQLite while holding the one writer: 0.3-0.4 s for
-- two million tokens, every ten minutes); with them it reads only what it deletes.
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE INDEX auth_requests_expiry ON auth_requests(expires_at);
