"""The office's side: checking a synced archive and exporting clips and stills from it.

``open_archive`` reads the kit folders and manifests; ``verify`` checks every file and the
audit chain; ``plan``/``export`` decrypt the marked clips and stills; the contact sheet is
written by ``write_html``/``write_pdf``.
"""

from device.office.archive import KitFolder, open_archive
from device.office.contact_sheet import write_html, write_pdf
from device.office.export import Recording, check_output, export, plan
from device.office.verify import Report, verify

__all__ = [
    "KitFolder",
    "Recording",
    "Report",
    "check_output",
    "export",
    "open_archive",
    "plan",
    "verify",
    "write_html",
    "write_pdf",
]
