"""Bonuses: offers, wagering rules, the bonus tables and their money movements.

Plain domain code (no Temporal, no HTTP). The Bonus workflow orchestrates one granted
bonus through :mod:`croupier.bonus.lifecycle`; bet settlement reaches
:mod:`croupier.bonus.wagering` through a hook the activity layer injects, so
``croupier.betting`` never imports this package.
"""
