"""The web desk: search, compare and read what regwatch collected, in a browser (``regwatch serve``).

A stage like the others: it imports the shared ground and ``indexer``'s public
names; the wiring (``regwatch.app.desk``) hands it a :class:`DeskServices`.
``create_app(desk)`` is the FastAPI application; :func:`current_user` is the one
dependency every route has (accounts replace it).
"""

from ._app import create_app
from ._security import current_user
from ._services import LOCAL_USER, DeskServices, User

__all__ = ["LOCAL_USER", "DeskServices", "User", "create_app", "current_user"]
