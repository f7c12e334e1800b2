"""What the batch's fork server imports before any worker forks from it (batch.PdfPool):
WeasyPrint, without its slow library search (weasy.py), and pikepdf. Importing this
module loads them; nothing else imports it."""

import pikepdf  # noqa: F401

from .weasy import import_weasyprint

import_weasyprint()
