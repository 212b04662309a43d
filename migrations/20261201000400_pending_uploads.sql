-- Profile picture uploads started and not yet cleaned up (issue 11, finding 8): the sweeper
-- deletes each upload key's object once it is older than HUMIT_PENDING_UPLOAD_MAX_AGE_SECS,
-- whether or not it became a picture (a completed picture lives under its own key).
CREATE TABLE pending_uploads (
    key        TEXT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX pending_uploads_started_at ON pending_uploads (started_at);
