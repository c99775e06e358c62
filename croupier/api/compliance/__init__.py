"""HTTP routes of compliance: the player's KYC and responsible-gambling limits, and the
compliance staff's KYC review desk. Thin adapters over ``croupier.compliance`` and the
KYC review and limit-change workflows."""
