-- A parallel rebuild of a projection marks its checkpoint -1 while it owns the rows.
--
-- `lifecycle projections rebuild --workers N` folds the log in N processes, each writing the
-- rows of its share of the products. While they do, no other projector may fold into the same
-- rows, and none may mistake half-written rows for a checkpoint's worth. The rebuild therefore
-- wipes the rows and sets the checkpoint to -1 in one transaction; projectors that find -1 wait
-- (see store/projections.py). When every share is folded the rebuild sets the checkpoint to the
-- last position it folded. A rebuild that dies half way leaves -1 behind: the board stays empty
-- rather than wrong until the rebuild is run again.

ALTER TABLE public.projection_checkpoints
    DROP CONSTRAINT projection_checkpoints_position_check,
    ADD CONSTRAINT projection_checkpoints_position_check CHECK (position >= -1);

COMMENT ON COLUMN public.projection_checkpoints.position IS
    'The last global log position the rows include; -1 while a parallel rebuild owns the rows.';
