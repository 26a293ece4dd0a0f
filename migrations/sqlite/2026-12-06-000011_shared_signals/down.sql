DROP INDEX outbox_stream;
ALTER TABLE outbox DROP COLUMN stream_id;
DROP TABLE ssf_streams;
ALTER TABLE clients DROP COLUMN allow_shared_signals;
