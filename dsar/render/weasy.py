"""WeasyPrint imported without its slow search for system libraries.

WeasyPrint looks for each library it needs under several names (one per platform); on
Linux, every name dlopen() cannot open as it is goes to ctypes.util.find_library, which
runs ldconfig and gcc as subprocesses: 22 lookups, ~0.3 s of a cold `dsar generate`.
Among the names are the exact sonames (libpango-1.0.so.0, ...), which dlopen() opens at
once: the import is tried first with the search turned off, and only if a library is
then missing, once more the ordinary way.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import io
import sys
import threading


def _not_searched(name: str) -> None:
    return None


# `dsar serve` lays letters out on several threads: two first imports at once would each
# put back what the other one had changed (the library search left off, stdout swallowed)
_IMPORTING = threading.Lock()


def import_weasyprint():
    """The weasyprint module; raises what `import weasyprint` raises when it cannot."""
    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        with _IMPORTING:
            if "weasyprint" not in sys.modules:
                _import_without_search()
    import weasyprint

    return weasyprint


def _import_without_search() -> None:
    search = ctypes.util.find_library
    ctypes.util.find_library = _not_searched  # only while WeasyPrint loads its libraries
    try:
        # WeasyPrint prints its install advice before it raises: the second try says it
        with contextlib.redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except OSError:
        for name in [n for n in sys.modules if n.partition(".")[0] == "weasyprint"]:
            del sys.modules[name]  # half-imported: the ordinary import starts afresh
    finally:
        ctypes.util.find_library = search
