-- The decision trail by person: "everything Ana signed, for any product" is one index lookup.
--
-- The trail's actor filter (store/trail.py) matches the acting subject or the principal a
-- delegate signed for. Without an index, a page of a person who acted rarely walks the whole
-- log, parsing every event's JSON: 4.8 s per page at 1,000,000 events (bench.trail_by_person).
--
-- Postgres cannot take any field out of a JSON text that holds a \u0000 escape anywhere (it
-- refuses to turn the document into text), nor one with a lone surrogate escape, and an index
-- expression that fails refuses the append. The store keeps such JSON verbatim
-- (tests/store/test_append.py), so the subjects are read through event_subject(): for a
-- \u0000 it reads the document again with the NUL as U+FFFD, so the person is still found; for
-- what it still cannot read it answers NULL, so the append goes through and only that event is
-- left out of person filters. The API refuses NUL in every text it takes, and our writer
-- cannot send a lone surrogate, so the product's own events hold neither.
--
-- event_subject() is plain SQL so that the planner inlines it, in the index and in the trail's
-- query alike, and it parses the JSON only when it has to. Our writer escapes nothing but
-- control characters with \u, so almost every document has no "\u" at all: then a NUL cannot
-- be in it, and a key that does not appear literally is not there (a key can only be spelt
-- differently with a \u escape), so most events, which name no principal, are answered without
-- parsing. A document with a \u goes the careful way, through event_subject_parsed().
--
-- The principal's index is partial (most events name none) and has statistics of its own:
-- without them the planner cannot tell how rare a principal is, and walks the log in position
-- order instead.
--
-- Each append now evaluates both (the cost is in docs/performance.md, "The decision trail by
-- person"). Building them holds appends for the time it takes to read every event once.

CREATE FUNCTION public.event_subject_parsed(data json, person text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN json_extract_path_text(data, person, 'subject');
EXCEPTION
    WHEN untranslatable_character OR invalid_text_representation THEN
        -- A \u0000 (or a lone surrogate, which the json type also keeps) makes the whole
        -- document unreadable. Read it again with every \u0000 escape (one not itself escaped
        -- by a backslash) as U+FFFD, so the person is still found; give up only if that fails.
        BEGIN
            RETURN json_extract_path_text(
                regexp_replace(data::text, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g')::json,
                person,
                'subject'
            );
        EXCEPTION
            WHEN untranslatable_character OR invalid_text_representation THEN
                RETURN NULL;
        END;
END
$$;

CREATE FUNCTION public.event_subject(data json, person text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN pg_catalog.strpos(data::text, '\u') > 0 THEN public.event_subject_parsed(data, person)
    WHEN pg_catalog.strpos(data::text, '"' || person || '"') = 0 THEN NULL
    ELSE pg_catalog.json_extract_path_text(data, person, 'subject')
END
$$;

COMMENT ON FUNCTION public.event_subject(json, text) IS
    'The subject of the person under key `person` (actor, on_behalf_of) of an event''s data; '
    'a \u0000 in the JSON is read as U+FFFD; NULL if none, or if the JSON cannot be read.';

REVOKE ALL ON FUNCTION public.event_subject_parsed(json, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.event_subject(json, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.event_subject_parsed(json, text) TO lifecycle_app;
GRANT EXECUTE ON FUNCTION public.event_subject(json, text) TO lifecycle_app;

CREATE INDEX events_actor_subject_idx
    ON public.events (public.event_subject(data, 'actor'), position);

CREATE INDEX events_on_behalf_of_subject_idx
    ON public.events (public.event_subject(data, 'on_behalf_of'), position)
    WHERE public.event_subject(data, 'on_behalf_of') IS NOT NULL;

CREATE STATISTICS public.events_on_behalf_of_subject_stats
    ON (public.event_subject(data, 'on_behalf_of')) FROM public.events;
