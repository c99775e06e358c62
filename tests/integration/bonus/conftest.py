"""Bonus tests reuse the API and betting suites' fixtures: the real app, a funded
player and the in-process worker."""

from tests.integration.api.conftest import api, api_factory, api_settings  # noqa: F401
from tests.integration.betting.conftest import player  # noqa: F401
