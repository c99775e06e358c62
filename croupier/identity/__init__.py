"""Who a caller is: users, password hashes, access and refresh tokens, TOTP.

Plain domain code over PostgreSQL; it knows nothing of HTTP. The API's auth routers
and the ``croupier users`` command are thin adapters over ``service.IdentityService``.
"""
