"""Playing: bets, mines, fairness (seeds), the public verifier, balances, the statement
and the dev faucet. Routes validate, then update or query the player's session
workflow; they never write money themselves."""
