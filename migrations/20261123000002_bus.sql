-- Checkpoints of the relay and of each projection, and dead-lettered messages.

CREATE TABLE relay_checkpoint
(
    name         text PRIMARY KEY,
    position     bigint      NOT NULL DEFAULT 0,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projection_checkpoints
(
    name       text PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A message a projection could not apply after its attempts. Later events of the same
-- aggregate are parked behind it (to keep that aggregate's order); other aggregates flow on.
CREATE TABLE projection_dead_letters
(
    projection     text        NOT NULL,
    position       bigint      NOT NULL,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    event_type     text        NOT NULL,
    envelope       jsonb       NOT NULL,
    error          text        NOT NULL,
    attempts       int         NOT NULL,
    parked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, position)
);

CREATE INDEX projection_dead_letters_aggregate_idx
    ON projection_dead_letters (projection, aggregate_type, aggregate_id);

-- Publishes every checkpoint move so that API processes can answer read-your-writes waits.
CREATE FUNCTION humit_notify_checkpoint() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('humit_checkpoints', NEW.name || ':' || NEW.position);
    RETURN NULL;
END
$$;

CREATE TRIGGER projection_checkpoints_notify
    AFTER INSERT OR UPDATE ON projection_checkpoints
    FOR EACH ROW EXECUTE FUNCTION humit_notify_checkpoint();
