"""Workflow tests run on Temporal's time-skipping test server and a real (embedded) Postgres."""

from tests.support.temporal_fixtures import product_id, products, time_skipping_env

__all__ = ["product_id", "products", "time_skipping_env"]
