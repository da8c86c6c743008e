-- One field of an event's data as text, for the trail's gate filter and its playbook in force,
-- even when the document holds a \u0000 escape.
--
-- Postgres refuses to take any field out of a JSON text with a \u0000 escape anywhere in it,
-- so a filter written as data->>'gate' fails a whole trail page as soon as it scans one such
-- event (the store keeps JSON verbatim; tests/store/test_append.py). event_field_text() reads
-- the same way event_subject() does (migration 0008): without a \u in the document, the plain
-- extraction; with one, through event_field_text_parsed(), which reads a \u0000 as U+FFFD and
-- answers NULL for what it still cannot read, so only that event is left out of the filter.

CREATE FUNCTION public.event_field_text_parsed(data json, path text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN json_extract_path_text(data, VARIADIC path);
EXCEPTION
    WHEN untranslatable_character OR invalid_text_representation THEN
        BEGIN
            RETURN json_extract_path_text(
                regexp_replace(data::text, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\ufffd', 'g')::json,
                VARIADIC path
            );
        EXCEPTION
            WHEN untranslatable_character OR invalid_text_representation THEN
                RETURN NULL;
        END;
END
$$;

CREATE FUNCTION public.event_field_text(data json, VARIADIC path text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT CASE
    WHEN pg_catalog.strpos(data::text, '\u') > 0 THEN public.event_field_text_parsed(data, path)
    ELSE pg_catalog.json_extract_path_text(data, VARIADIC path)
END
$$;

COMMENT ON FUNCTION public.event_field_text(json, text[]) IS
    'The text at `path` in an event''s data; a \u0000 in the JSON is read as U+FFFD; NULL if '
    'absent, or if the JSON cannot be read.';

REVOKE ALL ON FUNCTION public.event_field_text_parsed(json, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.event_field_text(json, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.event_field_text_parsed(json, text[]) TO lifecycle_app;
GRANT EXECUTE ON FUNCTION public.event_field_text(json, text[]) TO lifecycle_app;
