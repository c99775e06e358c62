"""Deposit and withdrawal routes: addresses and deposit history, withdrawal requests,
their state, cancellation, and compliance decisions. Nothing here moves money: routes
validate, then start, update, signal or query the payment workflows."""
