"""The HTML document around the sections: inline style sheet, contents, and one section block.

Everything the page needs is inside it: the style sheet is inline, links are ``#`` anchors
within the page, there is no script and no web font. Text is escaped here; section bodies
arrive as HTML already escaped by the code that built them.
"""

import html
from collections.abc import Sequence
from dataclasses import dataclass

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1180px; padding: 0 24px 48px; color: #222; }
h1 { margin: 24px 0 4px; font-size: 1.6em; }
h2 { margin-top: 36px; border-bottom: 2px solid #ddd; padding-bottom: 4px; font-size: 1.25em; }
p.subtitle { color: #666; margin: 0 0 16px; }
p.note { color: #666; font-size: 0.9em; }
nav ol { columns: 3; font-size: 0.95em; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.85em; }
caption { text-align: left; font-weight: 600; padding: 4px 0; white-space: nowrap; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
thead th { background: #f4f4f4; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.txt, th.txt { text-align: left; }
table.kv th { text-align: left; font-weight: 600; background: #fafafa; }
td.hash { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; }
.scroll { max-height: 460px; overflow: auto; }
img { max-width: 100%; height: auto; display: block; margin: 8px 0; }
"""
"""The whole style sheet (inline, no external resource)."""


@dataclass(frozen=True)
class Section:
    """One section of the document.

    Attributes
    ----------
    section_id : str
        The ``id`` of its ``<h2>`` (a fixed ASCII name, also the contents' anchor).
    title : str
        Heading text (escaped when written).
    body : str
        HTML of the section's content, already escaped by its builder.
    """

    section_id: str
    title: str
    body: str


def render_section(section: Section) -> str:
    """``<section>`` with its ``<h2 id=...>`` heading and body."""
    anchor = html.escape(section.section_id, quote=True)
    return (
        f'<section aria-labelledby="{anchor}">'
        f'<h2 id="{anchor}">{html.escape(section.title)}</h2>{section.body}</section>'
    )


def render_contents(sections: Sequence[Section]) -> str:
    """An ordered list of links to every section."""
    items = "".join(
        f'<li><a href="#{html.escape(s.section_id, quote=True)}">{html.escape(s.title)}</a></li>'
        for s in sections
    )
    return f'<nav aria-label="contents"><ol>{items}</ol></nav>'


def render_document(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """A complete, self-contained HTML5 document: title, contents, then every section."""
    body = "".join(render_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header><h1>{html.escape(title)}</h1>"
        f'<p class="subtitle">{html.escape(subtitle)}</p></header>'
        f"{render_contents(sections)}<main>{body}</main></body></html>\n"
    )


def paragraph(text: str, css_class: str | None = None) -> str:
    """``<p>`` of escaped ``text``."""
    attribute = f' class="{html.escape(css_class, quote=True)}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def scrolling(inner: str) -> str:
    """Wrap a long table in a scrolling box."""
    return f'<div class="scroll">{inner}</div>'
