"""HTTP adapters over ``croupier.identity``: auth routes, the caller's account, admin routes."""
