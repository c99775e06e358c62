"""Bitcoin treasury movements on the regtest simulator, through the payments_btc stack
(a module's simulated chain behind the real ``BitcoindRpc``, its own worker and hot
wallet index, the session's PostgreSQL and Temporal dev server)."""

from __future__ import annotations

from tests.integration.payments.conftest import keystore_dir as keystore_dir
from tests.integration.payments.conftest import test_signer as test_signer
from tests.integration.payments_btc.conftest import btc_chain as btc_chain
from tests.integration.payments_btc.conftest import btc_stack as btc_stack
from tests.integration.payments_btc.conftest import scanner as scanner
