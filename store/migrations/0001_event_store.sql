-- The event log: one row per event, one global SHA-256 chain in position order.
--
-- Writers never touch the table: they call append_events(), which runs as this migration's
-- user (SECURITY DEFINER) and does lock, idempotency check, version check, hashing and insert in
-- one round trip. The application role may read and may call that function, nothing else, and
-- triggers refuse UPDATE/DELETE/TRUNCATE even for the owner, so rewriting history takes a
-- deliberate ALTER TABLE ... DISABLE TRIGGER by a privileged user (and verify_chain sees it).
--
-- Advisory lock keys used by the store (two-int form, class 1818846821 = 'life'):
--   (1818846821, 1) appends   (1818846821, 2) migrations

DO $$
BEGIN
    -- event_hash() measures fields with octet_length(), which counts bytes in the server
    -- encoding; the canonical encoding is defined in UTF-8.
    IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the lifecycle event store needs a UTF8 database (this one is %)',
            pg_catalog.current_setting('server_encoding');
    END IF;
END
$$;

-- Roles are cluster-wide: create only if missing; several databases may migrate at once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'lifecycle_app') THEN
        CREATE ROLE lifecycle_app LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

CREATE TABLE public.events (
    position        bigint      NOT NULL,
    stream_id       text        NOT NULL,
    stream_version  integer     NOT NULL,
    event_id        uuid        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            json        NOT NULL,  -- json, not jsonb: the hashed text is kept verbatim
    metadata        json        NOT NULL,
    recorded_at     timestamptz NOT NULL,
    prev_hash       text        NOT NULL,
    hash            text        NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_position_check CHECK (position > 0),
    CONSTRAINT events_stream_id_check CHECK (stream_id <> ''),
    CONSTRAINT events_stream_version_check CHECK (stream_version > 0),
    CONSTRAINT events_type_check CHECK (type <> '')
);

COMMENT ON TABLE public.events IS
    'Append-only event log. Append through append_events(); hash chain documented in store/hashing.py.';

CREATE FUNCTION public.events_refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is refused', TG_OP
        USING ERRCODE = 'LC004',
              HINT = 'History is never rewritten; append a correcting event instead.';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON public.events
    FOR EACH ROW EXECUTE FUNCTION public.events_refuse_rewrite();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON public.events
    FOR EACH STATEMENT EXECUTE FUNCTION public.events_refuse_rewrite();

-- One netstring of the canonical encoding: <byte length>:<text>,
CREATE FUNCTION public.event_netstring(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.octet_length(t)::text || ':' || t || ',';

-- The chained hash of one event; must equal store.hashing.compute_hash (a test checks).
-- SQL-standard body: bound at creation (search_path cannot change its meaning) and inlined by
-- the planner.
CREATE FUNCTION public.event_hash(
    p_position bigint,
    p_stream_id text,
    p_stream_version integer,
    p_event_id uuid,
    p_type text,
    p_schema_version integer,
    p_data text,
    p_metadata text,
    p_recorded_at timestamptz,
    p_prev_hash text
) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.encode(
    pg_catalog.sha256(pg_catalog.convert_to(
        public.event_netstring('lifecycle.event.v1')
        || public.event_netstring(p_position::text)
        || public.event_netstring(p_stream_id)
        || public.event_netstring(p_stream_version::text)
        || public.event_netstring(p_event_id::text)
        || public.event_netstring(p_type)
        || public.event_netstring(p_schema_version::text)
        || public.event_netstring(p_data)
        || public.event_netstring(p_metadata)
        || public.event_netstring(pg_catalog.to_char(
               p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || public.event_netstring(p_prev_hash),
        'UTF8')),
    'hex');

-- Errors use SQLSTATEs the Python store translates:
--   LC001 stale expected version     DETAIL {"stream_id", "expected_version", "actual_version"}
--   LC002 event id reused            DETAIL {"event_ids": [...], "reason"}
--   LC003 malformed request
--   LC004 rewrite refused (UPDATE/DELETE/TRUNCATE on events)

-- Some of the batch's ids are taken: if the whole batch is stored as given, in one stream, in
-- this order, it is a replay and the original result is returned; anything else is LC002.
-- Called by append_events (whose owner's rights it runs with) under the append lock.
CREATE FUNCTION public.events_already_stored(
    p_stream_id text,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[],
    p_recorded_at timestamptz[],
    OUT first_position bigint,
    OUT last_position bigint,
    OUT stream_version_after integer
)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
AS $fn$
DECLARE
    n           integer := pg_catalog.cardinality(p_event_ids);
    v_stored    uuid[];
    v_differing uuid[];
    v_versions  integer[];
BEGIN
    SELECT pg_catalog.array_agg(u.event_id ORDER BY u.ord),
           pg_catalog.array_agg(u.event_id ORDER BY u.ord) FILTER (
               WHERE e.stream_id <> p_stream_id
                  OR e.type <> u.type
                  OR e.schema_version <> u.schema_version
                  OR e.data::text <> u.data
                  OR e.metadata::text <> u.metadata
                  OR e.recorded_at <> u.recorded_at),
           pg_catalog.array_agg(e.stream_version ORDER BY u.ord),
           pg_catalog.min(e.position),
           pg_catalog.max(e.position)
      INTO v_stored, v_differing, v_versions, first_position, last_position
      FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_recorded_at)
               WITH ORDINALITY AS u(event_id, type, schema_version, data, metadata,
                                    recorded_at, ord)
      JOIN public.events e ON e.event_id = u.event_id;

    IF pg_catalog.cardinality(v_stored) IS DISTINCT FROM n THEN
        RAISE EXCEPTION 'event ids already used: %', v_stored
            USING ERRCODE = 'LC002',
                  DETAIL = pg_catalog.json_build_object(
                      'event_ids', v_stored,
                      'reason', 'batch partly overlaps stored events')::text;
    END IF;
    IF v_differing IS NOT NULL THEN
        RAISE EXCEPTION 'event ids already used with other content: %', v_differing
            USING ERRCODE = 'LC002',
                  DETAIL = pg_catalog.json_build_object(
                      'event_ids', v_differing,
                      'reason', 'stored with different content or in another stream')::text;
    END IF;
    FOR i IN 2..n LOOP
        IF v_versions[i] <> v_versions[i - 1] + 1 THEN
            RAISE EXCEPTION 'event ids already used in another order: %', v_stored
                USING ERRCODE = 'LC002',
                      DETAIL = pg_catalog.json_build_object(
                          'event_ids', v_stored,
                          'reason', 'stored in a different order')::text;
        END IF;
    END LOOP;
    stream_version_after := v_versions[n];
END
$fn$;

REVOKE ALL ON FUNCTION public.events_already_stored(text, uuid[], text[], integer[], text[],
                                                    text[], timestamptz[]) FROM PUBLIC;

-- Append a batch to one stream: the only way events get written.
CREATE FUNCTION public.append_events(
    p_stream_id text,
    p_expected_version integer,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[],
    p_recorded_at timestamptz[],
    OUT first_position bigint,
    OUT last_position bigint,
    OUT stream_version_after integer,
    OUT already_stored boolean
)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Every lookup here has an index made for it. Plans are cached per session, and while the table
-- is young its statistics make a sequential scan look cheaper, a plan that would then stay
-- while the table grows; forbidding it keeps each append O(log n).
SET enable_seqscan = off
AS $fn$
DECLARE
    n            integer := pg_catalog.cardinality(p_event_ids);
    v_taken      boolean;
    v_actual     integer;
    v_head       bigint;
    v_prev       text;
    v_prevs      text[];
    v_hashes     text[];
    v_constraint text;
BEGIN
    IF n = 0
       OR pg_catalog.cardinality(p_types) <> n
       OR pg_catalog.cardinality(p_schema_versions) <> n
       OR pg_catalog.cardinality(p_data) <> n
       OR pg_catalog.cardinality(p_metadata) <> n
       OR pg_catalog.cardinality(p_recorded_at) <> n THEN
        RAISE EXCEPTION 'append_events: need one or more events and equally long arrays'
            USING ERRCODE = 'LC003';
    END IF;
    IF p_stream_id IS NULL OR p_stream_id = '' OR p_expected_version IS NULL
       OR p_expected_version < 0 THEN
        RAISE EXCEPTION 'append_events: need a stream id and an expected version >= 0'
            USING ERRCODE = 'LC003';
    END IF;
    -- Each statement below must see everything committed before we got the lock; a
    -- REPEATABLE READ snapshot taken earlier would not, and positions would collide.
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'append_events must run at READ COMMITTED, not %',
            pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'LC003';
    END IF;

    -- Serialise writers until commit, so positions are handed out in commit order and a
    -- follower reading position > n never skips an event that commits later below n.
    PERFORM pg_catalog.pg_advisory_xact_lock(1818846821, 1);

    -- The stream's version and the chain's head, each an index probe, and for a single event
    -- whether its id is taken. For a batch that last probe costs an index descent per event,
    -- which the insert repeats anyway, so it is deferred (see below).
    SELECT CASE WHEN n = 1
                THEN EXISTS (SELECT FROM public.events e WHERE e.event_id = ANY (p_event_ids))
                ELSE false END,
           COALESCE((SELECT pg_catalog.max(e.stream_version)
                       FROM public.events e
                      WHERE e.stream_id = p_stream_id), 0),
           h.position,
           h.hash
      INTO v_taken, v_actual, v_head, v_prev
      FROM (SELECT) AS one
      LEFT JOIN LATERAL (SELECT e.position, e.hash
                           FROM public.events e
                          ORDER BY e.position DESC
                          LIMIT 1) AS h ON true;

    -- Idempotency comes before the version check: a retry after a lost acknowledgement
    -- arrives with the expected version it had then, which is stale now.
    IF n > 1 AND v_actual <> p_expected_version THEN
        v_taken := EXISTS (SELECT FROM public.events e WHERE e.event_id = ANY (p_event_ids));
    END IF;
    IF v_taken THEN
        SELECT r.first_position, r.last_position, r.stream_version_after
          INTO first_position, last_position, stream_version_after
          FROM public.events_already_stored(p_stream_id, p_event_ids, p_types,
                                            p_schema_versions, p_data, p_metadata,
                                            p_recorded_at) AS r;
        already_stored := true;
        RETURN;
    END IF;

    IF v_actual <> p_expected_version THEN
        RAISE EXCEPTION 'stream %: expected version %, actual %',
                p_stream_id, p_expected_version, v_actual
            USING ERRCODE = 'LC001',
                  DETAIL = pg_catalog.json_build_object(
                      'stream_id', p_stream_id,
                      'expected_version', p_expected_version,
                      'actual_version', v_actual)::text;
    END IF;

    IF v_head IS NULL THEN
        v_head := 0;
        v_prev := pg_catalog.repeat('0', 64);
    END IF;

    IF n = 1 THEN
        -- The common case: no arrays to build or unnest.
        INSERT INTO public.events (position, stream_id, stream_version, event_id, type,
                                   schema_version, data, metadata, recorded_at, prev_hash, hash)
        VALUES (v_head + 1, p_stream_id, p_expected_version + 1, p_event_ids[1], p_types[1],
                p_schema_versions[1], p_data[1]::json, p_metadata[1]::json, p_recorded_at[1],
                v_prev,
                public.event_hash(v_head + 1, p_stream_id, p_expected_version + 1,
                                  p_event_ids[1], p_types[1], p_schema_versions[1], p_data[1],
                                  p_metadata[1], p_recorded_at[1], v_prev));
    ELSE
        -- The chain is sequential by nature: each hash needs the one before.
        FOR i IN 1..n LOOP
            v_prevs[i] := v_prev;
            v_prev := public.event_hash(
                v_head + i, p_stream_id, p_expected_version + i, p_event_ids[i], p_types[i],
                p_schema_versions[i], p_data[i], p_metadata[i], p_recorded_at[i], v_prev);
            v_hashes[i] := v_prev;
        END LOOP;

        BEGIN
            INSERT INTO public.events (position, stream_id, stream_version, event_id, type,
                                       schema_version, data, metadata, recorded_at, prev_hash,
                                       hash)
            SELECT v_head + u.ord, p_stream_id, p_expected_version + u.ord::integer,
                   u.event_id, u.type, u.schema_version, u.data::json, u.metadata::json,
                   u.recorded_at, u.prev_hash, u.hash
              FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata,
                          p_recorded_at, v_prevs, v_hashes)
                       WITH ORDINALITY AS u(event_id, type, schema_version, data, metadata,
                                            recorded_at, prev_hash, hash, ord);
        EXCEPTION WHEN unique_violation THEN
            -- The deferred idempotency check: nothing of the batch stayed written.
            GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
            IF v_constraint IS DISTINCT FROM 'events_event_id_key' THEN
                RAISE;
            END IF;
            SELECT r.first_position, r.last_position, r.stream_version_after
              INTO first_position, last_position, stream_version_after
              FROM public.events_already_stored(p_stream_id, p_event_ids, p_types,
                                                p_schema_versions, p_data, p_metadata,
                                                p_recorded_at) AS r;
            already_stored := true;
            RETURN;
        END;
    END IF;

    first_position := v_head + 1;
    last_position := v_head + n;
    stream_version_after := p_expected_version + n;
    already_stored := false;
END
$fn$;

REVOKE ALL ON TABLE public.events FROM PUBLIC;
GRANT SELECT ON TABLE public.events TO lifecycle_app;

REVOKE ALL ON FUNCTION public.append_events(text, integer, uuid[], text[], integer[], text[],
                                            text[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.append_events(text, integer, uuid[], text[], integer[],
                                               text[], text[], timestamptz[]) TO lifecycle_app;
