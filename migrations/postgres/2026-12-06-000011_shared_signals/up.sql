-- OpenID Shared Signals Framework 1.0: a client allowed to may hold one event stream (SSF §8.1
-- lets a transmitter limit a receiver to one). Its Security Event Tokens go through the outbox
-- (stream_id set): pushed ones are delivered and retried like logout tokens, polled ones wait
-- with status 'poll' until the receiver acknowledges them (RFC 8936 §2.4), held ones wait for a
-- paused stream to be enabled again. A push authorization header is stored sealed.
ALTER TABLE clients ADD COLUMN allow_shared_signals BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE ssf_streams (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    delivery_method TEXT NOT NULL,
    endpoint_url TEXT,
    authorization_header TEXT,
    events_requested TEXT NOT NULL,
    events_delivered TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    verification_requested_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
ALTER TABLE outbox ADD COLUMN stream_id TEXT;
CREATE INDEX outbox_stream ON outbox(stream_id, status, created_at);
