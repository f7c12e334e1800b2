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
