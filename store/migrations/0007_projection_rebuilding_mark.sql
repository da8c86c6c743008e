-- A parallel rebuild of a projection marks its checkpoint -1, with its own id, while it owns
-- the rows.
--
-- `lifecycle projections rebuild --workers N` folds the log in N processes, each writing the
-- rows of its share of the products. While they do, no other projector may fold into the same
-- rows, and none may mistake half-written rows for a checkpoint's worth. The rebuild therefore
-- wipes the rows, sets the checkpoint to -1 and records its rebuild_id in one transaction;
-- projectors that find -1 fold nothing (see store/projections.py), every share checks the id
-- before each write (so a share of an abandoned rebuild stops at its next write), and another
-- rebuild refuses to start unless told to take over. When every share is done the rebuild sets
-- the checkpoint to the last position it folded and clears the id. A rebuild that dies half way
-- leaves the mark: the board stays empty rather than wrong until a rebuild takes over.

ALTER TABLE public.projection_checkpoints
    ADD COLUMN rebuild_id uuid,
    DROP CONSTRAINT projection_checkpoints_position_check,
    ADD CONSTRAINT projection_checkpoints_position_check CHECK (position >= -1),
    ADD CONSTRAINT projection_checkpoints_rebuild_check
        CHECK ((position = -1) = (rebuild_id IS NOT NULL));

COMMENT ON COLUMN public.projection_checkpoints.position IS
    'The last global log position the rows include; -1 while a parallel rebuild owns the rows.';
COMMENT ON COLUMN public.projection_checkpoints.rebuild_id IS
    'The parallel rebuild that owns the rows while position is -1; NULL otherwise.';
