"""WeasyPrint imported without ctypes' library search (render/weasy.py)."""

import subprocess
import sys

CHECK = """
import ctypes.util
search = ctypes.util.find_library
from dsar.render.weasy import import_weasyprint
weasyprint = import_weasyprint()
from weasyprint.text.ffi import harfbuzz_subset, pango
assert ctypes.util.find_library is search, "the library search is put back"
assert pango is not None and harfbuzz_subset is not None
print(len(weasyprint.HTML(string="<p>x</p>").write_pdf()) > 0)
"""


def test_weasyprint_loads_its_libraries_and_the_search_is_put_back():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# `dsar serve` lays letters out on its page threads: two may be the first to import
# WeasyPrint at once. The first is held in the import until the second has come in.
RACE = """
import builtins, ctypes.util, sys, threading
from dsar.render import weasy

search, stdout = ctypes.util.find_library, sys.stdout
first_in, second_in = threading.Event(), threading.Event()


class Hold:  # the first import stops before the module exists, till the second comes
    def find_spec(self, name, path=None, target=None):
        if name == "weasyprint" and not first_in.is_set():
            first_in.set()
            second_in.wait()


sys.meta_path.insert(0, Hold())
plain_import = builtins.__import__


def noted(name, *args, **kwargs):  # the second thread waits for the first one's import
    if name == "weasyprint" and threading.current_thread().name == "second":
        second_in.set()
    return plain_import(name, *args, **kwargs)


builtins.__import__ = noted


class NotedLock:  # or it waits for the first one to be done with the import
    def __init__(self, lock):
        self.lock = lock

    def __enter__(self):
        if threading.current_thread().name == "second":
            second_in.set()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


if hasattr(weasy, "_IMPORTING"):
    weasy._IMPORTING = NotedLock(weasy._IMPORTING)
first = threading.Thread(target=weasy.import_weasyprint, name="first")
first.start()
first_in.wait()
second = threading.Thread(target=weasy.import_weasyprint, name="second")
second.start()
first.join()
second.join()
assert sys.stdout is stdout, "standard output is put back"
assert ctypes.util.find_library is search, "the library search is put back"
"""


def test_two_threads_importing_weasyprint_at_once_put_back_what_they_change():
    done = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
