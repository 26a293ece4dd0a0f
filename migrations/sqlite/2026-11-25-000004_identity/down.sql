ALTER TABLE clients DROP COLUMN security_event_uri;
ALTER TABLE refresh_tokens DROP COLUMN verification_id;
ALTER TABLE access_tokens DROP COLUMN verification_id;
ALTER TABLE authorization_codes DROP COLUMN verification_id;
ALTER TABLE auth_requests DROP COLUMN verification_id;
ALTER TABLE challenges DROP COLUMN verification_id;
DROP TABLE fact_releases;
DROP TABLE verifications;
