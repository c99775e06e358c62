from tests.btc_simulator.fixtures import chain, client, hot_address

__all__ = ["chain", "client", "hot_address"]
