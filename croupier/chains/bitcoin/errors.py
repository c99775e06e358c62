"""Bitcoin's own failures, each under the shared chain error it behaves like.

The broadcast errors carry bitcoind's reject reason verbatim (``reason``) and the
JSON-RPC error code bitcoind answers with (``rpc_code``), so an operator can match a
log line against Bitcoin Core's source and the wire mapping lives in one place.
"""

from __future__ import annotations

from croupier.chains.errors import BroadcastRejected, FeeTooLow
from croupier.core.errors import ConfigurationError, Conflict, InsufficientFunds, InvalidInput

# bitcoind's JSON-RPC error codes (src/rpc/protocol.h) that Croupier tells apart.
RPC_MISC_ERROR = -1
RPC_INVALID_ADDRESS_OR_KEY = -5
RPC_INVALID_PARAMETER = -8
RPC_DESERIALIZATION_ERROR = -22
RPC_VERIFY_ERROR = -25
RPC_VERIFY_REJECTED = -26
RPC_VERIFY_ALREADY_IN_CHAIN = -27
RPC_IN_WARMUP = -28
RPC_WALLET_NOT_FOUND = -18
RPC_WALLET_ALREADY_LOADED = -35
RPC_WALLET_ALREADY_EXISTS = -36
RPC_METHOD_NOT_FOUND = -32601


class TransactionRejected(BroadcastRejected):
    """bitcoind refused the transaction for a policy or consensus reason (-26)."""

    code = "btc_transaction_rejected"
    rpc_code = RPC_VERIFY_REJECTED


class MalformedTransaction(TransactionRejected):
    """The bytes do not decode as a transaction (-22)."""

    code = "btc_malformed_transaction"
    rpc_code = RPC_DESERIALIZATION_ERROR


class BtcFeeTooLow(FeeTooLow):
    """Below the relay or mempool minimum, or a replacement that does not pay enough (-26)."""

    code = "btc_fee_too_low"
    rpc_code = RPC_VERIFY_REJECTED


class MempoolConflict(TransactionRejected):
    """It spends an output a mempool transaction already spends, which may not be replaced."""

    code = "btc_mempool_conflict"


class InputsMissingOrSpent(BroadcastRejected):
    """An input does not exist or is already spent in the chain (-25).

    For a transaction we sent before, this usually means it (or a replacement) is mined:
    check its status before treating the withdrawal as failed.
    """

    code = "btc_inputs_missing_or_spent"
    rpc_code = RPC_VERIFY_ERROR


class MaxFeeExceeded(BroadcastRejected):
    """The node's own fee guard (``maxfeerate``) refused a fee it thought absurd (-25)."""

    code = "btc_max_fee_exceeded"
    rpc_code = RPC_VERIFY_ERROR


class AlreadyInChain(BroadcastRejected):
    """The transaction is already mined (-27); broadcasting it again is a no-op."""

    code = "btc_already_in_chain"
    rpc_code = RPC_VERIFY_ALREADY_IN_CHAIN


class InsufficientUtxos(InsufficientFunds):
    """The wallet's spendable coins cannot pay the amount plus the fee."""

    code = "btc_insufficient_utxos"


class TooManyInputs(InsufficientUtxos):
    """Paying would take more inputs than one transaction may have: consolidate first."""

    code = "btc_too_many_inputs"


class FeeRateAboveCap(Conflict):
    """The feerate needed (a replacement's, usually) is above ``CROUPIER_BTC_MAX_FEE_RATE_SAT_VB``.

    Never retried blindly: paying more than the cap is a decision for a human.
    """

    code = "btc_fee_rate_above_cap"


class MissingSigningKey(InvalidInput):
    """An input's address has no matching key among those handed to the signer."""

    code = "btc_missing_signing_key"


class RpcCredentialsRejected(ConfigurationError):
    """bitcoind answered 401/403: ``CROUPIER_BTC_RPC_USER``/``_PASSWORD`` are wrong."""

    code = "btc_rpc_credentials_rejected"
