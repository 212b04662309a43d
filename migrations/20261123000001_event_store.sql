-- The event log: the postgres-es `events` and `snapshots` tables, plus a global position.
--
-- `position` orders every event of every aggregate. A BEFORE INSERT trigger takes a
-- transaction-scoped advisory lock before it draws the next position, so appending
-- transactions hand out positions one at a time, and a transaction holding a lower position
-- always commits (or rolls back) before a higher position is drawn. A reader that has seen
-- position N can therefore never later find a committed event below N: the relay reads
-- `position > checkpoint` and can never skip an event. Rolled-back transactions leave gaps,
-- which are harmless. This is the single-writer design of EventStoreDB's `$all` log.

CREATE SEQUENCE events_position_seq AS bigint;

CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        jsonb                        NOT NULL,
    metadata       jsonb                        NOT NULL,
    position       bigint                       NOT NULL,
    event_id       uuid                         NOT NULL DEFAULT gen_random_uuid(),
    recorded_at    timestamptz                  NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_position_idx ON events (position);
CREATE UNIQUE INDEX events_event_id_idx ON events (event_id);
CREATE INDEX events_type_idx ON events (event_type, position);

CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

CREATE FUNCTION humit_assign_position() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    -- (7261, 1): the append lock. Held until this transaction ends.
    PERFORM pg_advisory_xact_lock(7261, 1);
    NEW.position := nextval('events_position_seq');
    RETURN NEW;
END
$$;

CREATE TRIGGER events_assign_position
    BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION humit_assign_position();

-- Wakes the relay (and every process's revocation feed) when a transaction that appended
-- events commits. Notifications are delivered at commit and folded per transaction.
CREATE FUNCTION humit_notify_events() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('humit_events', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION humit_notify_events();

-- Events are immutable: only erasure (which rewrites personal data) may touch them.
CREATE FUNCTION humit_events_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF current_setting('humit.erasure', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'events are append-only';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_immutable
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION humit_events_immutable();
