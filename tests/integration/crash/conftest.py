"""The API fixtures (an app per test over the real stack), for the crash API tests."""

from tests.integration.api.conftest import api, api_factory, api_settings  # noqa: F401
