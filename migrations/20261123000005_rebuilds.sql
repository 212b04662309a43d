-- Progress of projection rebuilds, visible from every process (API, CLI, admin console).
CREATE TABLE projection_rebuilds
(
    projection   text PRIMARY KEY,
    status       text        NOT NULL, -- running | done | failed
    done         bigint      NOT NULL DEFAULT 0,
    total        bigint      NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    position     bigint,
    error        text
);
