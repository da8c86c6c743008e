-- People and their API tokens.
--
-- Unlike the event log, identity is mutable state: roles change, people leave, tokens are
-- revoked. Nothing here is ever deleted, though: a revoked token or a disabled user stays, so
-- a subject named in an old event can still be looked up. The application role therefore gets
-- SELECT, INSERT and UPDATE and no DELETE.
--
-- Tokens are stored as the SHA-256 of their random secret only; the plaintext is shown once
-- when issued (see store/identity.py for the format and why a fast hash is right here).

-- True when every element is a role key as the domain defines it (domain.identity.RoleName).
-- The store validates before writing; this keeps other writers honest.
CREATE FUNCTION public.identity_roles_valid(p_roles text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (SELECT pg_catalog.bool_and(r ~ '^[a-z][a-z0-9-]{0,47}$')
          FROM pg_catalog.unnest(p_roles) AS r) IS NOT FALSE
       AND pg_catalog.array_position(p_roles, NULL) IS NULL;

CREATE TABLE public.users (
    subject      text        NOT NULL,
    display_name text        NOT NULL,
    roles        text[]      NOT NULL DEFAULT '{}',
    disabled     boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT users_pkey PRIMARY KEY (subject),
    CONSTRAINT users_subject_check CHECK (pg_catalog.char_length(subject) BETWEEN 1 AND 128),
    CONSTRAINT users_display_name_check
        CHECK (pg_catalog.char_length(display_name) BETWEEN 1 AND 128),
    CONSTRAINT users_roles_check CHECK (public.identity_roles_valid(roles))
);

COMMENT ON TABLE public.users IS
    'People who may act, with the roles they hold. Disable instead of deleting.';

CREATE TABLE public.api_tokens (
    token_id      text        NOT NULL,
    subject       text        NOT NULL,
    label         text        NOT NULL,
    secret_sha256 bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz,
    CONSTRAINT api_tokens_pkey PRIMARY KEY (token_id),
    CONSTRAINT api_tokens_subject_fkey FOREIGN KEY (subject) REFERENCES public.users (subject),
    CONSTRAINT api_tokens_token_id_check
        CHECK (token_id ~ '^[A-Za-z0-9]{12}$'),
    CONSTRAINT api_tokens_label_check CHECK (pg_catalog.char_length(label) BETWEEN 1 AND 200),
    CONSTRAINT api_tokens_secret_sha256_check CHECK (pg_catalog.octet_length(secret_sha256) = 32),
    CONSTRAINT api_tokens_expiry_check CHECK (expires_at > created_at)
);

CREATE INDEX api_tokens_subject_idx ON public.api_tokens (subject, created_at);

COMMENT ON TABLE public.api_tokens IS
    'API tokens: SHA-256 of the secret only. Revoke (revoked_at) instead of deleting.';

REVOKE ALL ON TABLE public.users, public.api_tokens FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON TABLE public.users, public.api_tokens TO lifecycle_app;
