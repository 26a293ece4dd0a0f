DROP TABLE audit_checkpoints;
DROP TABLE audit_log;
DROP TABLE audit_inbox;
DROP TABLE person_merges;
DROP TABLE admin_api_keys;
DROP TABLE admin_login_failures;
DROP TABLE admin_sessions;
DROP TABLE admin_accounts;
