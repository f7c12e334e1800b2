"""The report's two pictures as SVG text, drawn by matplotlib: outcomes per recipient
(stacked bars) and the flow message sender -> party -> broker -> source.

matplotlib rather than pygal: its SVG writes text as paths (svg.fonttype 'path'), so
the picture needs no font and no URL when WeasyPrint lays it into the PDF (pygal's
SVG links a script on the web and names fonts), and its patches draw the flow, which
no pygal chart does. It is imported only here, only when a report is drawn (~0.4 s).
Labels come from outside (a reply names a source): drawn as text, never as
mathtext ('$x$' stays dollars).
"""

from __future__ import annotations

import functools
import io
import textwrap
from collections import Counter
from collections.abc import Sequence

# colours of the outcomes, in the order of the bars (colour-blind safe: Okabe-Ito)
# as many as findings.OUTCOMES (nine): a series without its colour would not be drawn
COLOURS = (
    "#009E73", "#E69F00", "#F0E442", "#D55E00", "#CC79A7", "#56B4E9", "#0072B2", "#999999",
    "#DDDDDD",
)  # fmt: skip
# text as <text> in DejaVu Sans, the font the PDF's text uses (installed with WeasyPrint's
# fonts-dejavu-core): WeasyPrint draws glyph paths 3x slower (5 s of a 300-member report)
FONTTYPE = "none"
MAX_NODES = 8  # per column of the flow; the rest is drawn as one node, "other"
LINE = 0.029  # the height of a flow label's line, in the flow's y units (6.5 pt of ~3.9 in)


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _styled(draw):
    """The chart drawn in dsar's font, matplotlib's other settings left as they were."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        from matplotlib import rc_context

        with rc_context({"font.family": "DejaVu Sans", "text.parse_math": False}):
            return draw(*args, **kwargs)

    return drawn


def _svg(figure, prefix: str) -> str:
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    out = io.StringIO()
    # the same figures give the same file: no date, ids from a fixed salt
    with rc_context({"svg.hashsalt": "dsar", "svg.fonttype": FONTTYPE}):
        FigureCanvasSVG(figure).print_svg(out, metadata={"Date": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]  # inlined in HTML: no XML declaration nor doctype
    # two pictures in one page: their ids (glyphs, clips) must not meet
    for before, after in (('id="', 'id="'), ('href="#', 'href="#'), ("url(#", "url(#")):
        text = text.replace(before, after + prefix)
    return text


@_styled
def outcomes(
    recipients: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
    *,
    lang: str = "en",
) -> str:
    """Horizontal stacked bars: one bar per recipient, one segment per outcome.
    `series`: (outcome's name, its count for each recipient). Requests are whole: the
    axis counts in integers, written as the report's language writes numbers."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    height = 1.6 + 0.38 * max(1, len(recipients))
    figure = _figure(7.0, height)
    axes = figure.add_subplot()
    left = [0] * len(recipients)
    rows = range(len(recipients))
    for (name, counts), colour in zip(series, COLOURS, strict=False):
        axes.barh(rows, counts, left=left, color=colour, label=name, height=0.7)
        for row, (start, count) in enumerate(zip(left, counts, strict=True)):
            if count:
                axes.text(
                    start + count / 2, row, str(count), ha="center", va="center",
                    fontsize=7, parse_math=False,
                )  # fmt: skip
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set_yticks(list(rows), [_short(r) for r in recipients], fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title, fontsize=10, loc="left")
    axes.tick_params(axis="x", labelsize=7)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _number(value, lang)))
    axes.spines[["top", "right"]].set_visible(False)
    # under the bars: above them it met the title
    axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=4, frameon=False)
    return _svg(figure, "outcomes-")


@_styled
def flow(columns: Sequence[str], edges: Counter, title: str, other: str) -> str:
    """Nodes in columns (sender, party, broker, source), bands between them as wide as
    their count, the count written on each band. `edges`: (column, from, to) -> count,
    `from` in column `column`, `to` in the next one."""
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as Curve

    edges = _grouped(edges, len(columns), other)
    through = _through(edges, len(columns))
    total = max([sum(c.values()) for c in through] + [1])
    figure = _figure(7.0, 4.6)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_xlim(-0.2, len(columns) - 0.4)
    axes.set_ylim(-0.05, 1.14)
    axes.set_title(title, fontsize=10, loc="left")
    gap, width = 0.02, 0.12
    places: list[dict[str, list[float]]] = []  # node -> [top, height, used out, used in]
    for column, counts in enumerate(through):
        # wrapped: the long French names of two neighbours ran into each other
        axes.text(
            column, 1.03, textwrap.fill(columns[column], 20), ha="center", va="bottom",
            fontsize=8, weight="bold", parse_math=False,
        )  # fmt: skip
        names = sorted(counts, key=lambda n: (n == other, -counts[n], n))
        scale = (1.0 - gap * max(0, len(names) - 1)) / total
        top, placed, free = 1.0, {}, 1.0  # free: the top of the room left for labels
        for name in names:
            height = counts[name] * scale
            placed[name] = [top, height, 0.0, 0.0]
            axes.add_patch(
                Rectangle((column - width / 2, top - height), width, height, color="#444444")
            )
            # the label whole, on lines (« pas de réponse sur le fond (non remise, … ») was
            # cut at 22 characters), beside its node or, when a small node's neighbour
            # took that room, just under the label above
            label = _lines(f"{name} ({counts[name]})")
            half = LINE * (label.count("\n") + 1) / 2
            middle = min(top - height / 2, free - half)
            axes.text(
                column + width / 2 + 0.02, middle, label, va="center", fontsize=6.5,
                linespacing=1.1, parse_math=False,
            )  # fmt: skip
            free = middle - half
            top -= height + gap
        places.append(placed)
    for (column, start, end), count in sorted(edges.items(), key=lambda e: -e[1]):
        a, b = places[column][start], places[column + 1][end]
        scale_a = a[1] / max(1, through[column][start])
        scale_b = b[1] / max(1, through[column + 1][end])
        ha, hb = count * scale_a, count * scale_b
        ya, yb = a[0] - a[2], b[0] - b[3]
        a[2] += ha
        b[3] += hb
        x0, x1 = column + width / 2, column + 1 - width / 2
        mid = (x0 + x1) / 2
        band = Curve(
            [
                (x0, ya), (mid, ya), (mid, yb), (x1, yb),
                (x1, yb - hb), (mid, yb - hb), (mid, ya - ha), (x0, ya - ha), (x0, ya),
            ],
            [Curve.MOVETO, *[Curve.CURVE4] * 3, Curve.LINETO, *[Curve.CURVE4] * 3, Curve.CLOSEPOLY],
        )  # fmt: skip
        axes.add_patch(PathPatch(band, facecolor="#56B4E9", alpha=0.45, edgecolor="none"))
        # the count where the band arrives, unless the node's own label says it
        if count == through[column + 1][end]:
            continue
        axes.text(
            x1 - 0.02, yb - hb / 2, str(count), ha="right", va="center",
            fontsize=6.5, parse_math=False,
        )  # fmt: skip
    return _svg(figure, "flow-")


def _grouped(edges: Counter, columns: int, other: str) -> Counter:
    """The MAX_NODES largest nodes of each column kept, the rest as one node `other`."""
    through = _through(edges, columns)
    kept = [{n for n, _c in c.most_common(MAX_NODES)} for c in through]
    grouped: Counter = Counter()
    for (column, start, end), count in edges.items():
        start = start if start in kept[column] else other
        end = end if end in kept[column + 1] else other
        grouped[(column, start, end)] += count
    return grouped


def _through(edges: Counter, columns: int) -> list[Counter]:
    """What passes each node: what leaves it, and for the last column what comes in
    (a middle node's bands in and out are the same requests, counted once)."""
    through: list[Counter] = [Counter() for _ in range(columns)]
    for (column, start, end), count in edges.items():
        through[column][start] += count
        if column + 1 == columns - 1:
            through[column + 1][end] += count
    return through


def _number(value: float, lang: str) -> str:
    """A tick's number: '12', '2.5' in English, '2,5' in French."""
    text = str(int(value)) if value == int(value) else f"{value:g}"
    return text.replace(".", ",") if lang == "fr" else text


def _lines(text: str, width: int = 28, most: int = 4) -> str:
    """A flow label on lines of `width` characters; a name from outside longer than
    `most` lines is cut there (a reply may name anything)."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > most:
        lines = [*lines[: most - 1], _short(" ".join(lines[most - 1 :]), width)]
    return "\n".join(lines)


def _short(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
