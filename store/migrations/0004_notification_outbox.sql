-- Stakeholder notifications: an outbox written by the notify_stakeholders activity.
--
-- Each row is one message to the people in some roles (and/or named people) about a product.
-- The id is derived by the workflow from the event that caused the message, so recording the
-- same notification again (a retried activity) inserts nothing and nothing is sent twice.
--
-- A channel delivers a row and stamps delivered_at; the embedded default channel 'log' writes
-- one structured log line per notification (activities/notifications.py). Rows are a record of
-- what people were told, so the application role may read, insert and mark delivery (UPDATE),
-- and may not DELETE.

CREATE TABLE public.notification_outbox (
    notification_id    text        NOT NULL,
    kind               text        NOT NULL,
    product_id         text        NOT NULL,
    product_name       text        NOT NULL,
    gate               text,
    round              integer,
    recipient_roles    text[]      NOT NULL DEFAULT '{}',
    recipient_subjects text[]      NOT NULL DEFAULT '{}',
    headline           text        NOT NULL,
    body               text        NOT NULL DEFAULT '',
    occurred_at        timestamptz NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    delivered_at       timestamptz,
    channel            text        NOT NULL DEFAULT 'log',
    CONSTRAINT notification_outbox_pkey PRIMARY KEY (notification_id),
    CONSTRAINT notification_outbox_notification_id_check CHECK (notification_id <> ''),
    CONSTRAINT notification_outbox_kind_check CHECK (kind <> ''),
    CONSTRAINT notification_outbox_product_id_check CHECK (product_id <> ''),
    CONSTRAINT notification_outbox_channel_check CHECK (channel <> ''),
    CONSTRAINT notification_outbox_recipients_check
        CHECK (pg_catalog.array_position(recipient_roles, NULL) IS NULL
               AND pg_catalog.array_position(recipient_subjects, NULL) IS NULL)
);

-- A product's notifications, newest first.
CREATE INDEX notification_outbox_product_idx
    ON public.notification_outbox (product_id, occurred_at);
-- Everyone's feed, newest first (role and subject filters are applied while walking it).
CREATE INDEX notification_outbox_occurred_idx
    ON public.notification_outbox (occurred_at, notification_id);

COMMENT ON TABLE public.notification_outbox IS
    'Stakeholder notifications, one row per message; idempotent on notification_id. '
    'Mark delivery (delivered_at) instead of deleting.';

REVOKE ALL ON TABLE public.notification_outbox FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON TABLE public.notification_outbox TO lifecycle_app;
