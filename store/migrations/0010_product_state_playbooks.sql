-- The read model keeps each playbook once, not once per product.
--
-- Every product's state holds its whole playbook: about 11 KB of its 12-14 KB of JSON, and
-- most of the cost of reading it back (validating the playbook's every rule). The board and
-- the inbox read every product's state at each load, so at 1,000 products a board took about
-- 3 s, nearly all of it parsing the same playbook again and again (bench.portfolio_pages).
--
-- A state row now holds the state without its playbook (nor the newer version it waits to
-- adopt, if any), and names each by fingerprint (the SHA-256 of its canonical form); the
-- playbooks are kept once in product_state_playbooks, and a reader parses each fingerprint once
-- and checks the playbook it reads has that fingerprint. Rows written before this migration
-- have no fingerprint and still hold their playbooks; they are read as before until the
-- projector next writes them.
--
-- Like the states, the kept playbooks are disposable: a rebuild wipes both and writes both
-- again from the log.

CREATE TABLE public.product_state_playbooks (
    fingerprint text NOT NULL,
    playbook    json NOT NULL,  -- Playbook.model_dump(mode="json")
    CONSTRAINT product_state_playbooks_pkey PRIMARY KEY (fingerprint)
);

COMMENT ON TABLE public.product_state_playbooks IS
    'The playbooks product_states rows name by fingerprint, each kept once; rebuildable.';

ALTER TABLE public.product_states
    ADD COLUMN playbook_fingerprint text
        CONSTRAINT product_states_playbook_fingerprint_fkey
        REFERENCES public.product_state_playbooks (fingerprint),
    ADD COLUMN pending_playbook_fingerprint text
        CONSTRAINT product_states_pending_playbook_fingerprint_fkey
        REFERENCES public.product_state_playbooks (fingerprint);

COMMENT ON COLUMN public.product_states.playbook_fingerprint IS
    'The state''s playbook, kept in product_state_playbooks; NULL: the state holds it itself.';
COMMENT ON COLUMN public.product_states.pending_playbook_fingerprint IS
    'The playbook version the product waits to adopt, kept in product_state_playbooks; NULL: '
    'none, or the state holds it itself.';

REVOKE ALL ON TABLE public.product_state_playbooks FROM PUBLIC;
GRANT SELECT, INSERT, DELETE ON TABLE public.product_state_playbooks TO lifecycle_app;
