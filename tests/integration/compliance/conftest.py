"""Compliance tests reuse the API tests' app fixtures (a real app per test, a manual
clock, cheap password hashing); ``people`` holds the database-side helpers."""

from tests.integration.api.conftest import api, api_factory, api_settings  # noqa: F401
