-- Temporal's own databases and role, beside the lifecycle event store.
CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB;
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
