CREATE INDEX auth_requests_expiry ON auth_requests(expires_at);
CREATE INDEX refresh_tokens_expiry ON refresh_tokens(expires_at);
CREATE INDEX access_tokens_expiry ON access_tokens(expires_at);
