-- The auth state (roles, cut-offs, open sessions, revocations still in force) as of a
-- position of the log: a process starts from it and reads only the events after it.
-- One row; every process may write it, the newest position wins.
CREATE TABLE auth_snapshot
(
    id       smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    format   integer     NOT NULL,
    position bigint      NOT NULL,
    state    jsonb       NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now()
);
