"""Compliance: KYC review, responsible-gambling restrictions, and the staff audit log.

Plain domain code over PostgreSQL (SQLAlchemy Core); no Temporal, no HTTP. Other
packages read a player's KYC level (``levels``), their gambling restrictions and the
pure checks over them (``limits``), and record staff actions (``audit``).
"""
