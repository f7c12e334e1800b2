"""Values from outside kept in their place: a name never a path, a cell never a formula,
registry text never terminal markup, a YAML file never a bomb."""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path

import yaml

from .errors import DsarError, InputError
from .files import read_limited
from .i18n import _

# ------------------------------------------------------------------ names and paths


# a name becomes part of file names (mandat-<ref>.pdf, <ref>.pdf) that travel (e-mail,
# zip, a Windows share): at most 100 bytes of UTF-8 (file names stop at 255), none of
# Windows' reserved characters, nor one of its device names (CON, COM1, ...)
MAX_NAME_BYTES = 100
_WINDOWS_FORBIDDEN = set('<>:"|?*')
_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"
}


def name(value: str, field: str) -> str:
    """A value that becomes part of a file name (a mandate reference): a name, not a path."""
    if not value or value.strip() != value:
        raise InputError(field, f"{value!r} is not a name: no spaces around it, not empty")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise InputError(field, f"{value!r} holds a control character; use letters, digits, -")
    if "/" in value or "\\" in value or ".." in value or value.startswith("."):
        raise InputError(
            field, f"{value!r} is a path, not a name: no '/', '\\', '..' or leading dot"
        )
    size = len(value.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise InputError(
            field,
            _(
                "{start}... is too long for a file name: {size} bytes in UTF-8, at most "
                "{limit} (an accented letter counts 2, an emoji 4)"
            ).format(start=repr(value[:20]), size=size, limit=MAX_NAME_BYTES),
        )
    if _WINDOWS_FORBIDDEN & set(value) or value.endswith("."):
        raise InputError(
            field,
            _('{value} cannot name a file on Windows: no < > : " | ? *, no final dot').format(
                value=repr(value)
            ),
        )
    if value.split(".")[0].upper().rstrip() in _DEVICES:
        raise InputError(
            field,
            _("{value} is a device name on Windows (CON, NUL, COM1...)").format(value=repr(value)),
        )
    return value


def safe_child(folder: Path, child: str) -> Path:
    """folder/child, checked to stay inside folder (links and '..' resolved)."""
    base = folder.resolve()
    target = (base / child).resolve()
    if target.parent != base:
        raise DsarError(f"{child!r} would be outside {folder}; a file name is expected")
    return base / child


# ------------------------------------------------------------------ text on a terminal

# C0/C1 controls, and the bidi controls that show a line in another order than it reads
# (U+202E makes 'fdp.exe' look like 'exe.pdf')
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from outside as it may reach a terminal: no escape sequence (ANSI, OSC 8),
    no bidi control."""
    return _CONTROL.sub("", str(text))


def plain(text: str) -> str:
    """Text for a rich table: printable, and its [brackets] shown, never read as markup."""
    from rich.markup import escape

    return escape(printable(text))


# CSV cells: sheets.cell, with the rest of the CSV dialect dsar writes


# ------------------------------------------------------------------ YAML from outside

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):
    """Safe, and dates left as text: a schema checks them and says where (2026-02-30)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)

_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class Misread(str):
    """An unquoted number YAML 1.1 reads otherwise than it is written: `0612345670` is
    octal (a phone number would become 01 03 40 24 24), `1_000` is 1000, `1:30` is 90,
    `0x10` is 16. Kept as written only to be refused by scalar(): put it in quotes."""


def _number_as_written(loader, node):
    if _DECIMAL.fullmatch(node.value):  # plain decimals stay numbers (a schema_version)
        return loader.construct_yaml_int(node)
    return Misread(loader.construct_scalar(node))


def _float_as_written(loader, node):
    value = loader.construct_scalar(node)
    if value.lower().lstrip("+-") in (".nan", ".inf"):
        return loader.construct_yaml_float(node)
    return value if re.fullmatch(r"[-+]?[0-9]+\.[0-9]+", value) else Misread(value)


_Loader.add_constructor("tag:yaml.org,2002:int", _number_as_written)
_Loader.add_constructor("tag:yaml.org,2002:float", _float_as_written)

MAX_DEPTH = 32


class YamlRefused(DsarError):
    pass


def load_yaml(text: str, where: str, *, max_bytes: int):
    """Parse a YAML file from outside: no aliases (the 600-byte 'billion laughs'), bounded
    depth and size, and a key given twice is an error naming both lines."""
    if len(text) > max_bytes:
        raise YamlRefused(f"{where}: {len(text)} characters; {max_bytes} at most")
    try:
        _check_events(text, where)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise YamlRefused(
            f"{where}{line}: not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    except (ValueError, TypeError, RecursionError) as exc:
        raise YamlRefused(f"{where}: a value cannot be read: {exc}") from None


def _check_events(text: str, where: str) -> None:
    # frames: [is_mapping, expecting_key, {key: line}]
    stack: list[list] = []
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(
                f"{where} line {line}: aliases (*{event.anchor}) are not allowed; "
                "write the value out"
            )
        if isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            stack.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if stack and stack[-1][0]:
            frame = stack[-1]
            if frame[1] and isinstance(event, yaml.ScalarEvent):
                if event.value == "<<" and event.implicit[0]:
                    raise YamlRefused(
                        f"{where} line {line}: merge keys (<<) are not allowed; write the keys out"
                    )
                if event.value in frame[2]:
                    raise YamlRefused(
                        f"{where} line {line}: the key '{printable(event.value)}' is given "
                        f"twice (line {frame[2][event.value]} and line {line}); keep one"
                    )
                frame[2][event.value] = line
            frame[1] = not frame[1]
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise YamlRefused(f"{where} line {line}: nested more than {MAX_DEPTH} levels deep")
            stack.append([isinstance(event, yaml.MappingStartEvent), True, {}])


def scalar(data: dict, key: str, where) -> str:
    """A YAML value that must be text. YAML turns some unquoted values into other types
    (`yes`, `.nan`, `0x...` of 40,000 digits, `!!binary`, `!!set`, a mapping): each is
    refused with the file and field named, never str()-ed into a letter ("b'hello'",
    "{'a', 'b'}", "nan" as the name a mandate is signed with). A plain number is text
    as written (a postcode), unless it is too long to write back."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not isinstance(value, Misread)):
        return value or ""
    kind = _kind(value)
    if kind is None:
        try:
            return str(value)
        except ValueError:  # Python's limit on digits in an int-string conversion
            kind = _("a number of more than 4,300 digits")
    raise YamlRefused(
        _("{path}: '{field}' should be text, not {kind}; put it in quotes").format(
            path=where, field=key, kind=kind
        )
    )


def _kind(value) -> str | None:
    """What a YAML value is when it is not text, as a message names it; None for a
    number that reads as text."""
    if isinstance(value, Misread):
        return _("a number YAML reads otherwise ({value})").format(value=printable(value[:40]))
    if isinstance(value, bool):
        return _("true or false")
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return None
    if isinstance(value, float):
        return _("a special number (.nan, .inf)")
    if isinstance(value, dict | list | set):
        return _("a list or a mapping")
    return _("binary data") if isinstance(value, bytes) else type(value).__name__


def version(data: dict, key: str, where, expected: int) -> None:
    """A schema version: the number `expected`, nothing else (not 0xfff..., not text)."""
    value = data.get(key, expected)
    if type(value) is not int or value != expected:
        shown = value if type(value) is int and abs(value) < 10**9 else type(value).__name__
        if isinstance(value, str) and len(value) < 20:
            shown = value
        raise YamlRefused(
            _("{path}: {field} {value} is not supported (this dsar reads {expected})").format(
                path=where, field=key, value=shown, expected=expected
            )
        )


def read_yaml_file(path: Path, *, max_bytes: int = 64 * 1024):
    """A small YAML file the person wrote (association.yaml, profile.yaml)."""
    try:
        data = read_limited(path, max_bytes)
        if data is None:
            raise YamlRefused(f"{path}: larger than {max_bytes // 1024} kB; is it the right file?")
        text = data.decode("utf-8")
    except IsADirectoryError:
        raise YamlRefused(f"{path} is a folder; give the YAML file") from None
    except UnicodeDecodeError as exc:
        raise YamlRefused(
            f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise YamlRefused(f"{path}: cannot read it ({exc.strerror})") from None
    return load_yaml(text, str(path), max_bytes=max_bytes)
