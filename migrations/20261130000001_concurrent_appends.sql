-- Concurrent appends: no lock held through commit, no NOTIFY from writers.
--
-- Until now a BEFORE INSERT trigger took a transaction advisory lock and drew `position`
-- from a sequence, so appending transactions committed one at a time (no group commit), and
-- a statement trigger sent a NOTIFY from every appending transaction. Both are gone.
--
-- Now every event row records the id of the transaction that wrote it (`tx`, a column
-- default, so postgres-es's inserts are unchanged) and is stored with `position` NULL. One
-- leader, the sequencer (`src/store/sequencer.rs`), hands out the public, dense `position` in
-- `(tx, aggregate, sequence)` order to the events of transactions below the horizon
-- `pg_snapshot_xmin(pg_current_snapshot())`: every transaction with a smaller id has
-- committed or rolled back, so no event can later appear before an assigned position. It is
-- also the only one that notifies (`humit_events`). Readers keep reading `position > N`.

ALTER TABLE events ALTER COLUMN position DROP NOT NULL;

-- Rows already in the log all have a position; `0` keeps the ALTER free of a table rewrite.
ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id();

CREATE INDEX events_unsequenced_idx ON events (tx) WHERE position IS NULL;

DROP TRIGGER events_assign_position ON events;
DROP FUNCTION humit_assign_position();
DROP TRIGGER events_notify ON events;
DROP FUNCTION humit_notify_events();
DROP SEQUENCE events_position_seq;

-- Events stay immutable. The one write allowed besides erasure is the sequencer's: giving
-- an event without a position its position, and changing nothing else.
CREATE OR REPLACE FUNCTION humit_events_immutable() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF current_setting('humit.erasure', true) IS NOT DISTINCT FROM 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.position IS NULL AND NEW.position IS NOT NULL
        AND (NEW.aggregate_type, NEW.aggregate_id, NEW.sequence, NEW.event_type,
             NEW.event_version, NEW.payload, NEW.metadata, NEW.event_id, NEW.recorded_at, NEW.tx)
            IS NOT DISTINCT FROM
            (OLD.aggregate_type, OLD.aggregate_id, OLD.sequence, OLD.event_type,
             OLD.event_version, OLD.payload, OLD.metadata, OLD.event_id, OLD.recorded_at, OLD.tx)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only';
END
$$;
