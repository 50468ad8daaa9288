"""The web desk: search, compare and read what regwatch collected, in a browser (``regwatch serve``).

A stage like the others: it imports the shared ground and ``indexer``'s public
names; the wiring (``regwatch.app.desk``) hands it a :class:`DeskServices`.
``create_app(desk, access=...)`` is the FastAPI application; :class:`Access` says who
may use it (one local user, or accounts and a trusted proxy), :func:`current_user`
is the one dependency every route has (who is asking, and the CSRF check), and
``hash_password``/``new_api_token`` make what the store keeps of an account.
"""

from ._access import Access, is_loopback, load_or_create_secret
from ._app import create_app
from ._auth import current_user
from ._passwords import hash_password, new_api_token, verify_password
from ._services import LOCAL_USER, DeskServices, User

__all__ = [
    "LOCAL_USER",
    "Access",
    "DeskServices",
    "User",
    "create_app",
    "current_user",
    "hash_password",
    "is_loopback",
    "load_or_create_secret",
    "new_api_token",
    "verify_password",
]
