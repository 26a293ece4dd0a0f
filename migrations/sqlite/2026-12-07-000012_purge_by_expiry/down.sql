DROP INDEX auth_requests_expiry;
DROP INDEX refresh_tokens_expiry;
DROP INDEX access_tokens_expiry;
