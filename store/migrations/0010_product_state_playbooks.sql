-- The read model keeps each playbook once, not once per product.
--
-- Every product's state holds its whole playbook: about 11 KB of its 12-14 KB of JSON, and
-- most of the cost of reading it back (validating the playbook's every rule). The board and
-- the inbox read every product's state at each load, so at 1,000 products a board took about
-- 3 s, nearly all of it parsing the same playbook again and again (bench.portfolio_pages).
--
-- A state row now holds the state without its playbook, and names it by fingerprint (the
-- SHA-256 of its canonical form, which the domain computes when a product registers or adopts
-- a version); the playbook is kept once in product_state_playbooks, and a reader parses each
-- fingerprint once. Rows written before this migration have no fingerprint and still hold
-- their playbook; they are read as before until the projector next writes them.
--
-- Playbooks are only ever added: a rebuild wipes the states, not the playbooks they name.

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
        REFERENCES public.product_state_playbooks (fingerprint);

COMMENT ON COLUMN public.product_states.playbook_fingerprint IS
    'The state''s playbook, kept in product_state_playbooks; NULL: the state holds it itself.';

REVOKE ALL ON TABLE public.product_state_playbooks FROM PUBLIC;
GRANT SELECT, INSERT ON TABLE public.product_state_playbooks TO lifecycle_app;
