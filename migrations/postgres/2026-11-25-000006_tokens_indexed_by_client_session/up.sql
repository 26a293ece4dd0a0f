-- Every token belongs to one client session, and that index already finds a grant's tokens
-- (a grant lives in one client session) and a person's (through their client sessions). The
-- indexes by grant and by person cost four more pages written per token exchange.
DROP INDEX access_tokens_grant;
DROP INDEX access_tokens_person;
DROP INDEX refresh_tokens_grant;
DROP INDEX refresh_tokens_person;
