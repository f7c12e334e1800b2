"""Where dsar keeps its files, and where the shipped templates and registry are.

Everything personal (profile, user registry, journal) lives under one folder:
DSAR_HOME when set (tests, portable installs), else the platform's config/data dirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

_PACKAGE = Path(__file__).resolve().parent
# installed wheel: data is force-included under dsar/_data; checkout: it sits at the top level
_DATA = _PACKAGE / "_data" if (_PACKAGE / "_data").is_dir() else _PACKAGE.parent

SHIPPED_TEMPLATES = _DATA / "templates"
SHIPPED_REGISTRY = _DATA / "brokers.yaml"
# the datenanfragen records (CC0) that `dsar brokers import datenanfragen` reads by default
SHIPPED_DATENANFRAGEN = _DATA / "data" / "datenanfragen" / "companies.jsonl"


@dataclass(frozen=True)
class Paths:
    config_dir: Path
    data_dir: Path

    @classmethod
    def from_env(cls) -> Paths:
        home = os.environ.get("DSAR_HOME")
        if home:
            root = Path(home).expanduser()
            return cls(config_dir=root, data_dir=root)
        return cls(
            config_dir=Path(platformdirs.user_config_dir("dsar")),
            data_dir=Path(platformdirs.user_data_dir("dsar")),
        )

    @property
    def profile(self) -> Path:
        return self.config_dir / "profile.yaml"

    @property
    def user_registry(self) -> Path:
        return self.config_dir / "brokers.yaml"

    @property
    def user_templates(self) -> Path:
        return self.config_dir / "templates"

    @property
    def journal(self) -> Path:
        return self.data_dir / "journal.sqlite3"
