"""A Bitcoin consolidation batch shared out between its deposit addresses: the shares
add up to the fee exactly and each address gives exactly the value of its coins."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from croupier.treasury.btc_consolidation import AddressShare, share_batch


def test_the_fee_is_shared_by_inputs_with_the_remainder_on_the_first_address() -> None:
    shares = share_batch({"a": (60_000, 40_000), "b": (50_000,)}, 1_000)

    assert shares == (AddressShare("a", 100_000 - 667, 667), AddressShare("b", 50_000 - 333, 333))


def test_an_address_whose_coins_cannot_carry_its_share_is_shown_short() -> None:
    (_, dusty) = share_batch({"a": (90_000,), "b": (400,)}, 1_000)

    assert dusty.amount <= 0


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.lists(st.integers(1, 10**10), min_size=1, max_size=20).map(tuple),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 10**8),
)
def test_shares_add_up_to_the_fee_and_each_address_gives_its_coins(
    coins: dict[str, tuple[int, ...]], fee_sat: int
) -> None:
    shares = share_batch(coins, fee_sat)

    assert sum(share.fee for share in shares) == fee_sat
    assert [share.address for share in shares] == list(coins)
    assert all(share.amount + share.fee == sum(coins[share.address]) for share in shares)
    assert all(share.fee >= 0 for share in shares)
