-- The product read model: one row per product, folded from the global log by
-- store/projections.py, for the portfolio board and the approvals inbox.
--
-- A projection is disposable: it can always be rebuilt from the events, so the application
-- role may also DELETE its rows (rebuild wipes them). The checkpoint says how far into the
-- log the rows are; it advances in the same transaction as the rows it covers.

CREATE TABLE public.product_states (
    product_id       text        NOT NULL,
    name             text        NOT NULL,
    owner            text        NOT NULL,
    owner_name       text        NOT NULL,
    stage            text        NOT NULL,
    status           text        NOT NULL,
    playbook_name    text        NOT NULL,
    playbook_version integer     NOT NULL,
    review_open      boolean     NOT NULL,
    state            json        NOT NULL,  -- ProductState.model_dump(mode="json")
    registered_at    timestamptz NOT NULL,
    stage_entered_at timestamptz NOT NULL,
    last_position    bigint      NOT NULL,
    CONSTRAINT product_states_pkey PRIMARY KEY (product_id),
    CONSTRAINT product_states_status_check CHECK (status IN ('active', 'retired', 'killed')),
    CONSTRAINT product_states_last_position_check CHECK (last_position > 0)
);

-- The board filters by stage, status or owner and pages by product_id.
CREATE INDEX product_states_stage_idx ON public.product_states (stage, product_id);
CREATE INDEX product_states_status_idx ON public.product_states (status, product_id);
CREATE INDEX product_states_owner_idx ON public.product_states (owner, product_id);
-- The inbox reads only products with a review open: a small, hot subset.
CREATE INDEX product_states_review_open_idx ON public.product_states (product_id)
    WHERE review_open;

COMMENT ON TABLE public.product_states IS
    'Read model folded from product-* streams; rebuildable. Written by store/projections.py.';

CREATE TABLE public.projection_checkpoints (
    name     text   NOT NULL,
    position bigint NOT NULL DEFAULT 0,
    CONSTRAINT projection_checkpoints_pkey PRIMARY KEY (name),
    CONSTRAINT projection_checkpoints_position_check CHECK (position >= 0)
);

COMMENT ON TABLE public.projection_checkpoints IS
    'Per projection: the last global log position its rows include.';

-- The row exists from the start, so every projector locks the same row (FOR UPDATE) and none
-- has to race another to create it.
INSERT INTO public.projection_checkpoints (name, position) VALUES ('product_states', 0);

REVOKE ALL ON TABLE public.product_states, public.projection_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.product_states TO lifecycle_app;
GRANT SELECT, INSERT, UPDATE ON TABLE public.projection_checkpoints TO lifecycle_app;
