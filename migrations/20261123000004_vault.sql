-- Per-person encryption keys for personal data in the event log (crypto-shredding).
-- Erasing a person deletes their key: every copy of their personal fields, in the log and
-- in any backup of it, becomes unreadable, while the events themselves stay for replay and
-- audit.
CREATE TABLE subject_keys
(
    subject    text PRIMARY KEY,
    key        bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
