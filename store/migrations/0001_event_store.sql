-- The event log: one row per event, one global SHA-256 chain in position order.
--
-- Writers never touch the table: they call append_events(), which runs as this migration's
-- user (SECURITY DEFINER) and does lock, idempotency check, version check, chain hashing and
-- insert in one round trip. The application role may read and may call that function, nothing else, and
-- triggers refuse UPDATE/DELETE/TRUNCATE even for the owner, so rewriting history takes a
-- deliberate ALTER TABLE ... DISABLE TRIGGER by a privileged user (and verify_chain sees it).
--
-- Advisory lock keys used by the store (two-int form, class 1818846821 = 'life'):
--   (1818846821, 1) appends   (1818846821, 2) migrations

DO $$
BEGIN
    -- event_content_digest() measures fields with octet_length(), which counts bytes in the
    -- server encoding; the canonical encoding is defined in UTF-8.
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
    -- SHA-256 of the event's own fields (store/hashing.py), computed by the writer; last so that
    -- the column order of everything before it is unchanged.
    content_digest  bytea       NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_position_check CHECK (position > 0),
    CONSTRAINT events_stream_id_check CHECK (stream_id <> ''),
    CONSTRAINT events_stream_version_check CHECK (stream_version > 0),
    CONSTRAINT events_type_check CHECK (type <> ''),
    CONSTRAINT events_content_digest_check CHECK (octet_length(content_digest) = 32)
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

-- The hash chain: see store/hashing.py for the contract, which Python implements too (a test
-- keeps the two equal). Two levels, so that the append path never hashes a payload in SQL:
--
--   content_digest = SHA-256 of the event's own fields (stream, id, type, schema version, data,
--                    metadata, recorded_at), computed by the writer before it calls
--                    append_events(); event_content_digest() below is the reference in SQL.
--   hash           = SHA-256 of a fixed 94-byte record (tag, position, stream_version, previous
--                    hash, content_digest), computed here under the append lock.

-- One netstring of the content encoding: <byte length>:<bytes>,
CREATE FUNCTION public.event_netstring(b bytea) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.convert_to(pg_catalog.octet_length(b)::text || ':', 'UTF8') || b || '\x2c'::bytea;

-- The content digest of one event, as store.hashing.content_digest computes it. Not used when
-- appending (the writer supplies the digest); here so the log can be checked in SQL alone, e.g.
--   SELECT position FROM events
--    WHERE content_digest <> event_content_digest(stream_id, event_id, type, schema_version,
--                                                  data::text, metadata::text, recorded_at);
CREATE FUNCTION public.event_content_digest(
    p_stream_id text,
    p_event_id uuid,
    p_type text,
    p_schema_version integer,
    p_data text,
    p_metadata text,
    p_recorded_at timestamptz
) RETURNS bytea
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN pg_catalog.sha256(
    public.event_netstring('\x6c6966656379636c652e6576656e742e7632'::bytea)  -- lifecycle.event.v2
    || public.event_netstring(pg_catalog.convert_to(p_stream_id, 'UTF8'))
    || public.event_netstring(pg_catalog.uuid_send(p_event_id))
    || public.event_netstring(pg_catalog.convert_to(p_type, 'UTF8'))
    || public.event_netstring(pg_catalog.convert_to(p_schema_version::text, 'UTF8'))
    || public.event_netstring(pg_catalog.convert_to(p_data, 'UTF8'))
    || public.event_netstring(pg_catalog.convert_to(p_metadata, 'UTF8'))
    || public.event_netstring(pg_catalog.convert_to(
           (EXTRACT(epoch FROM p_recorded_at) * 1000000)::bigint::text, 'UTF8')));

-- The chained hash of one event; must equal store.hashing.chain_hash (a test checks).
-- SQL-standard body: bound at creation (search_path cannot change its meaning) and inlined by
-- the planner.
CREATE FUNCTION public.event_chain_hash(
    p_position bigint,
    p_stream_version integer,
    p_prev_hash text,
    p_content_digest bytea
) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN pg_catalog.encode(
    pg_catalog.sha256(
        '\x6c6966656379636c652e636861696e2e7632'::bytea  -- lifecycle.chain.v2
        || pg_catalog.int8send(p_position)
        || pg_catalog.int4send(p_stream_version)
        || pg_catalog.decode(p_prev_hash, 'hex')
        || p_content_digest),
    'hex');

-- Errors use SQLSTATEs the Python store translates:
--   LC001 stale expected version     DETAIL {"stream_id", "expected_version", "actual_version"}
--   LC002 event id reused            DETAIL {"event_ids": [...], "reason"}
--   LC003 malformed request
--   LC004 rewrite refused (UPDATE/DELETE/TRUNCATE on events)

-- Some of the batch's ids are taken: if the whole batch is stored as given, in one stream, in
-- this order, it is a replay and the original result is returned; anything else is LC002.
-- Called by append_events (whose owner's rights it runs with) under the append lock. A rare
-- path, so it compares every field as well as the digests: a replay is recognised only if it is
-- byte for byte what was stored.
CREATE FUNCTION public.events_already_stored(
    p_stream_id text,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[],
    p_recorded_at timestamptz[],
    p_content_digests bytea[],
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
                  OR e.recorded_at <> u.recorded_at
                  OR e.content_digest <> u.content_digest),
           pg_catalog.array_agg(e.stream_version ORDER BY u.ord),
           pg_catalog.min(e.position),
           pg_catalog.max(e.position)
      INTO v_stored, v_differing, v_versions, first_position, last_position
      FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata, p_recorded_at,
                  p_content_digests)
               WITH ORDINALITY AS u(event_id, type, schema_version, data, metadata,
                                    recorded_at, content_digest, ord)
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
                                                    text[], timestamptz[], bytea[]) FROM PUBLIC;

-- Append a batch to one stream: the only way events get written. p_content_digests[i] is the
-- writer's content digest of event i (store.hashing.content_digest); it is not recomputed here,
-- which is what keeps payload hashing out of the append path. A digest that does not match its
-- event cannot hide anything: the chain seals the digest as given, and verification recomputes
-- it from the stored fields and names that position.
CREATE FUNCTION public.append_events(
    p_stream_id text,
    p_expected_version integer,
    p_event_ids uuid[],
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_metadata text[],
    p_recorded_at timestamptz[],
    p_content_digests bytea[],
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
    v_link       bytea;
    v_digest     bytea;
    v_hashes     text[];
    v_constraint text;
BEGIN
    IF n = 0
       OR pg_catalog.cardinality(p_types) <> n
       OR pg_catalog.cardinality(p_schema_versions) <> n
       OR pg_catalog.cardinality(p_data) <> n
       OR pg_catalog.cardinality(p_metadata) <> n
       OR pg_catalog.cardinality(p_recorded_at) <> n
       OR pg_catalog.cardinality(p_content_digests) <> n THEN
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
                                            p_recorded_at, p_content_digests) AS r;
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
        v_digest := p_content_digests[1];
        IF pg_catalog.octet_length(v_digest) IS DISTINCT FROM 32 THEN
            RAISE EXCEPTION 'append_events: a content digest is 32 bytes' USING ERRCODE = 'LC003';
        END IF;
        INSERT INTO public.events (position, stream_id, stream_version, event_id, type,
                                   schema_version, data, metadata, recorded_at, prev_hash, hash,
                                   content_digest)
        VALUES (v_head + 1, p_stream_id, p_expected_version + 1, p_event_ids[1], p_types[1],
                p_schema_versions[1], p_data[1]::json, p_metadata[1]::json, p_recorded_at[1],
                v_prev,
                public.event_chain_hash(v_head + 1, p_expected_version + 1, v_prev, v_digest),
                v_digest);
    ELSE
        -- The chain is sequential by nature: each hash needs the one before. This is
        -- event_chain_hash() unrolled, carrying the previous hash as bytes.
        v_link := pg_catalog.decode(v_prev, 'hex');
        FOR i IN 1..n LOOP
            v_digest := p_content_digests[i];
            IF pg_catalog.octet_length(v_digest) IS DISTINCT FROM 32 THEN
                RAISE EXCEPTION 'append_events: a content digest is 32 bytes'
                    USING ERRCODE = 'LC003';
            END IF;
            v_link := pg_catalog.sha256(
                '\x6c6966656379636c652e636861696e2e7632'::bytea  -- lifecycle.chain.v2
                || pg_catalog.int8send(v_head + i)
                || pg_catalog.int4send(p_expected_version + i)
                || v_link
                || v_digest);
            v_hashes[i] := pg_catalog.encode(v_link, 'hex');
        END LOOP;

        BEGIN
            INSERT INTO public.events (position, stream_id, stream_version, event_id, type,
                                       schema_version, data, metadata, recorded_at, prev_hash,
                                       hash, content_digest)
            SELECT v_head + u.ord, p_stream_id, p_expected_version + u.ord::integer,
                   u.event_id, u.type, u.schema_version, u.data::json, u.metadata::json,
                   u.recorded_at,
                   CASE WHEN u.ord = 1 THEN v_prev ELSE v_hashes[u.ord - 1] END,
                   u.hash, u.content_digest
              FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata,
                          p_recorded_at, v_hashes, p_content_digests)
                       WITH ORDINALITY AS u(event_id, type, schema_version, data, metadata,
                                            recorded_at, hash, content_digest, ord);
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
                                                p_recorded_at, p_content_digests) AS r;
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
                                            text[], timestamptz[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.append_events(text, integer, uuid[], text[], integer[],
                                               text[], text[], timestamptz[], bytea[])
    TO lifecycle_app;
