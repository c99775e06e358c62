"""The casino's own coin movements between its wallets, and the ledger legs that follow.

- ``movements``: one row per on-chain movement (a sweep hot -> cold, a gas top-up hot
  -> deposit address, a consolidation deposit address -> hot, a refill cold -> hot),
  held in the ledger while in flight and posted (or voided) once final on chain;
- ``positions``: what the policies in ``croupier.treasury`` decide from (the hot
  wallet's balance, reservations, the coins booked at each deposit address);
- ``address_sends``: transactions signed for deposit addresses, stored before broadcast;
- ``refills``: refill requests, their two approvals and the externally signed
  transaction that answers them.

Imports core, ledger, chains and the payments tables it reads; no Temporal, no HTTP.
"""
