-- Out-of-office delegations: a person (the principal) lets another (the delegate) sign in one
-- of their roles for a period.
--
-- Delegations are organisation-wide (a person is away from every product), so they live beside
-- the users, not in a product's event stream. When someone signs for another, the sign-off
-- event records the delegation id with both people, so the trail stays complete even though
-- this table is mutable state.
--
-- Like identity, nothing is deleted: a delegation ends by its period or is revoked (revoked_at,
-- revoked_by), so every delegation id named in an old event can still be looked up. The
-- application role gets SELECT, INSERT and UPDATE and no DELETE.
--
-- A period is [starts_at, ends_at): the start is included, the end is not. The exclusion
-- constraint refuses two unrevoked delegations of the same principal and role whose periods
-- overlap, to anyone; store/delegations.py checks first to name the existing one, and this
-- keeps other writers (and races) honest. btree_gist gives GiST the text equality it needs;
-- it is a trusted extension, so a database owner may create it without being a superuser.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE public.delegations (
    delegation_id text        NOT NULL,
    principal     text        NOT NULL,
    delegate      text        NOT NULL,
    role          text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    reason        text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    revoked_at    timestamptz,
    -- The subject who revoked: the principal or an admin. Not a foreign key: an admin signed
    -- in through OIDC need not have a row in users, and events name subjects the same way.
    revoked_by    text,
    CONSTRAINT delegations_pkey PRIMARY KEY (delegation_id),
    CONSTRAINT delegations_principal_fkey
        FOREIGN KEY (principal) REFERENCES public.users (subject),
    CONSTRAINT delegations_delegate_fkey
        FOREIGN KEY (delegate) REFERENCES public.users (subject),
    CONSTRAINT delegations_delegation_id_check CHECK (delegation_id ~ '^[a-z0-9]{12}$'),
    CONSTRAINT delegations_role_check CHECK (role ~ '^[a-z][a-z0-9-]{0,47}$'),
    CONSTRAINT delegations_period_check CHECK (ends_at > starts_at),
    CONSTRAINT delegations_not_to_self_check CHECK (principal <> delegate),
    CONSTRAINT delegations_reason_check CHECK (pg_catalog.char_length(reason) <= 2000),
    CONSTRAINT delegations_revoked_by_check
        CHECK (revoked_by IS NULL OR pg_catalog.char_length(revoked_by) BETWEEN 1 AND 128),
    CONSTRAINT delegations_revocation_check CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CONSTRAINT delegations_no_overlap EXCLUDE USING gist (
        principal WITH =,
        role WITH =,
        pg_catalog.tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (revoked_at IS NULL)
);

-- At sign-off: "may this delegate sign in this role now?"
CREATE INDEX delegations_delegate_role_idx
    ON public.delegations (delegate, role, starts_at);
-- Listing what a person gave (the exclusion constraint's index serves principal + role).
CREATE INDEX delegations_principal_idx ON public.delegations (principal, starts_at);

COMMENT ON TABLE public.delegations IS
    'Out-of-office delegations of a role for a period [starts_at, ends_at). Revoke instead of '
    'deleting.';

REVOKE ALL ON TABLE public.delegations FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON TABLE public.delegations TO lifecycle_app;
