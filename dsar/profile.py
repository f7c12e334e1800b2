"""The requester's saved details (dsar init), so a citizen types them once."""

from __future__ import annotations

from pathlib import Path

import yaml

from . import fields, safety
from .errors import DsarError, Field, InputError
from .files import make_private_dir, write_private
from .i18n import _
from .models import Requester

FIELDS = ("name", "address", "phone", "email")
SUBADDRESS = "reply_subaddress"  # opt-in: each request's answers to its own sub-address


def requester(
    name: str | None, address: str | None, phone: str | None, email: str | None
) -> Requester:
    """Validate what a person typed; each problem names its field."""
    name = fields.text(name or "", "name", limit=200)
    if not name:
        raise InputError("name_required", field="name")
    if not (phone or email):
        raise InputError(
            "phone_or_email", field="phone", phone=Field("phone"), email=Field("email")
        )
    return Requester(
        name=name,
        address=postal_address(address or ""),
        phone=fields.phone(phone) if phone else None,
        email=fields.email(email) if email else None,
    )


def postal_address(value: str) -> str:
    """The postal address, one line per line (\\n typed on the command line is one)."""
    return fields.text(value.replace("\\n", "\n"), "address", multiline=True, limit=500)


def check(field: str, value: str) -> str:
    """One detail as it is typed, so that dsar init can ask again at once when it is
    wrong: name, phone, email or one line of the address. An empty answer stays empty
    (except the name, which every letter needs)."""
    value = value.strip()
    if field == "name" and not value:
        raise InputError("name", _("a name is needed: every letter is signed with it"))
    if not value:
        return ""
    if field == "phone":
        return fields.phone(value)
    if field == "email":
        return fields.email(value)
    return fields.text(value, field, limit=200)


def load(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = safety.read_yaml_file(path) or {}
    except safety.YamlRefused as exc:
        raise DsarError(f"{exc}; fix it or run dsar init again") from None
    if not isinstance(data, dict):
        raise DsarError(
            _("{path} should hold name, address, phone, email; run dsar init again").format(
                path=path
            )
        )
    found = {k: text for k in FIELDS if (text := safety.scalar(data, k, path))}
    if data.get(SUBADDRESS) is True:
        found[SUBADDRESS] = "yes"
    return found


def save(path: Path, person: Requester, reply_subaddress: bool = False) -> None:
    data: dict = {k: getattr(person, k) for k in FIELDS if getattr(person, k)}
    if reply_subaddress:
        data[SUBADDRESS] = True
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    make_private_dir(path.parent)
    write_private(path, text, overwrite=True)
