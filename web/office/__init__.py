"""The office's read-only review page over a synced archive (``vigkit office serve``).

``create_office_app`` builds it; ``access`` holds the organisation's key and the access
code (``Gate``), ``pages`` the list and film pages, ``comments`` a supervisor's comments.
"""

from web.office.access import OfficeApp
from web.office.app import Gate, create_office_app

__all__ = ["Gate", "OfficeApp", "create_office_app"]
