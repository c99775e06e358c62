"""Bonus routes: players list offers and their bonuses (progress from each bonus's
workflow), claim and forfeit; staff grant one, recorded in the audit log."""
