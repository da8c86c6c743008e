-- Notification deliveries that did not happen by themselves, and their replays.
--
-- A delivery workflow (workflows/notification_delivery.py) sends one notification to one
-- endpoint named in the routes file, with retries. When the endpoint refused it (a 4xx other
-- than 429) or the retries ran out, the workflow records a dead letter here. An operator lists
-- them and replays one, which starts a new delivery under the same delivery id (the receiver's
-- webhook-id, so a receiver that did get it once ignores the repeat); that replay is recorded
-- in the second table. A replay that fails again leaves a new dead letter.
--
-- Both tables only grow: a dead letter is a fact about the past, and its replay is another one.
-- The application role may read and insert, and may neither update nor delete. Endpoint
-- addresses and secrets are never stored: only the endpoint's name from the routes file.

CREATE TABLE public.notification_dead_letters (
    dead_letter_id  text        NOT NULL,
    delivery_id     text        NOT NULL,
    workflow_id     text        NOT NULL,
    endpoint        text        NOT NULL,
    notification_id text        NOT NULL,
    product_id      text        NOT NULL,
    kind            text        NOT NULL,
    reason          text        NOT NULL,
    error           text        NOT NULL DEFAULT '',
    error_type      text,
    failed_at       timestamptz NOT NULL,
    replay_of       text,
    -- The whole delivery as the workflow had it (notification and retry settings), to replay.
    delivery        jsonb       NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT notification_dead_letters_pkey PRIMARY KEY (dead_letter_id),
    CONSTRAINT notification_dead_letters_id_check CHECK (dead_letter_id ~ '^[a-f0-9]{32}$'),
    CONSTRAINT notification_dead_letters_delivery_id_check CHECK (delivery_id <> ''),
    CONSTRAINT notification_dead_letters_endpoint_check
        CHECK (endpoint ~ '^[a-z][a-z0-9-]{0,47}$'),
    CONSTRAINT notification_dead_letters_reason_check
        CHECK (reason IN ('attempts_exhausted', 'rejected', 'failed')),
    CONSTRAINT notification_dead_letters_replay_of_fkey
        FOREIGN KEY (replay_of) REFERENCES public.notification_dead_letters (dead_letter_id)
);

-- The list, newest first; and a notification's dead letters.
CREATE INDEX notification_dead_letters_failed_idx
    ON public.notification_dead_letters (failed_at, dead_letter_id);
CREATE INDEX notification_dead_letters_notification_idx
    ON public.notification_dead_letters (notification_id);

CREATE TABLE public.notification_replays (
    dead_letter_id text        NOT NULL,
    workflow_id    text        NOT NULL,
    replayed_by    text        NOT NULL,
    replayed_at    timestamptz NOT NULL,
    CONSTRAINT notification_replays_pkey PRIMARY KEY (dead_letter_id),
    CONSTRAINT notification_replays_dead_letter_fkey
        FOREIGN KEY (dead_letter_id) REFERENCES public.notification_dead_letters (dead_letter_id),
    CONSTRAINT notification_replays_replayed_by_check
        CHECK (pg_catalog.char_length(replayed_by) BETWEEN 1 AND 128)
);

COMMENT ON TABLE public.notification_dead_letters IS
    'Notification deliveries that were refused or ran out of retries; append-only.';
COMMENT ON TABLE public.notification_replays IS
    'At most one replay per dead letter: who started it, when, as which workflow; append-only.';

REVOKE ALL ON TABLE public.notification_dead_letters FROM PUBLIC;
REVOKE ALL ON TABLE public.notification_replays FROM PUBLIC;
GRANT SELECT, INSERT ON TABLE public.notification_dead_letters TO lifecycle_app;
GRANT SELECT, INSERT ON TABLE public.notification_replays TO lifecycle_app;
