"""Ethereum: the web3 client, strict addresses, EIP-1559 transactions, the dev token."""
