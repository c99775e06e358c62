"""Croupier: the money core of an online crypto casino."""

__version__ = "0.1.0"
