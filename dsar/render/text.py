"""The plain-text form of a letter body, derived from its HTML.

Only the few tags the body templates use are understood. Text is unescaped back to
exactly what was typed. Line breaks survive only inside elements of class "pre"
(white-space: pre-line in the PDF): addresses and the quoted message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

WIDTH = 76
_BLOCKS = {"p", "h1", "h2", "h3", "li", "blockquote", "div", "address"}
_LISTS = {"ol", "ul"}


@dataclass
class _Block:
    tag: str
    prefix: str
    text: str
    depth: int
    quoted: bool


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.open: list[tuple[str, bool]] = []  # (tag, keeps line breaks)
        self.lists: list[list] = []  # [tag, items so far]
        self.buffer: list[str] = []
        self.prefix = ""

    def _flush(self):
        text, self.buffer = "".join(self.buffer), []
        if not text.strip():
            return
        tag = next((t for t, _ in reversed(self.open) if t in _BLOCKS), "p")
        quoted = any(t == "blockquote" for t, _ in self.open)
        self.blocks.append(_Block(tag, self.prefix, text, len(self.lists), quoted))
        self.prefix = ""

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.buffer.append("\n")
            return
        if tag in _BLOCKS or tag in _LISTS:
            self._flush()
        if tag in _LISTS:
            self.lists.append([tag, 0])
        if tag == "li" and self.lists:
            self.lists[-1][1] += 1
            kind, count = self.lists[-1]
            self.prefix = f"{count}. " if kind == "ol" else "- "
        keeps = "pre" in (dict(attrs).get("class") or "").split()
        self.open.append((tag, keeps or any(k for _, k in self.open)))

    def handle_endtag(self, tag):
        if tag in _BLOCKS or tag in _LISTS:
            self._flush()
        if tag in _LISTS and self.lists:
            self.lists.pop()
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        keeps = bool(self.open) and self.open[-1][1]
        self.buffer.append(data if keeps else data.replace("\n", " "))


_BLANKS = re.compile(r"[ \t\r\f\v]+")


def _lines(text: str) -> list[str]:
    # pre-line: keep the breaks, fold runs of blanks within a line; ASCII blanks only,
    # so the no-break space of French typography ("Objet\u00a0:") is never a break
    return [_BLANKS.sub(" ", line).strip(" ") for line in text.strip("\n").split("\n")]


def fill(line: str, first: str, rest: str, width: int = WIDTH) -> str:
    """textwrap.fill(line, width, initial_indent=first, subsequent_indent=rest,
    break_long_words=False, break_on_hyphens=False) for a line of words separated by
    single spaces (what _lines gives), in a fifth of the time: a batch wraps every letter.
    Only the ASCII space breaks, as in textwrap, so a no-break space holds."""
    if not line:
        return ""
    words = line.split(" ")
    if not all(word.strip() for word in words):
        # a word of Unicode blanks only (textwrap drops those at line ends): its own rules
        import textwrap

        return textwrap.fill(
            line,
            width,
            initial_indent=first,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
        )
    out: list[str] = []
    current, length = first, len(first)
    empty = True
    for word in words:
        if empty:
            current += word
            length += len(word)
            empty = False
        elif length + 1 + len(word) <= width:
            current += " " + word
            length += 1 + len(word)
        else:
            out.append(current)
            current, length = rest + word, len(rest) + len(word)
    out.append(current)
    return "\n".join(out)


def html_to_text(html: str) -> str:
    parser = _Collector()
    # word joiners keep citations whole in the PDF (letters.keep_citations); plain text
    # wraps on spaces only, so they would only get in a reader's search
    parser.feed(html.replace("\u2060", ""))
    parser.close()
    parser._flush()
    out: list[str] = []
    for block in parser.blocks:
        indent = "   " * max(block.depth - 1, 0)
        if block.quoted:
            out.append("\n".join(f"{indent}> {line}".rstrip() for line in _lines(block.text)))
            continue
        hang = " " * len(block.prefix)
        wrapped = [
            fill(line, indent + (block.prefix if i == 0 else hang), indent + hang)
            for i, line in enumerate(_lines(block.text))
        ]
        text = "\n".join(wrapped)
        if block.tag in ("h1", "h2", "h3"):
            text += "\n" + "-" * min(len(text), WIDTH)
        out.append(text)
    return "\n\n".join(out) + "\n"
