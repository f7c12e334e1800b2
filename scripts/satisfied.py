"""Exit 0 when the venv holds every requirement pyproject.toml names (and those of the
extras given as arguments) in a version it accepts; 1 otherwise (scripts/test.sh then
installs). Read from pyproject.toml, not the installed metadata, which may be older."""

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement

project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
wanted = list(project["dependencies"])
for extra in sys.argv[1:]:
    wanted += project["optional-dependencies"][extra]
for line in wanted:
    requirement = Requirement(line)
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        sys.exit(f"missing: {requirement.name}")
    if not requirement.specifier.contains(installed, prereleases=True):
        sys.exit(f"{requirement.name} {installed} does not satisfy {requirement}")
