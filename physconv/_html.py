"""Small well-formed HTML pieces for the notebook views (every tag closed, every text escaped)."""

from __future__ import annotations

import html as _html

STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px;margin:4px 0"
CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid #ddd;white-space:nowrap;vertical-align:top"


def escape(value) -> str:
    return _html.escape(str(value), quote=True)


def table(header, rows, raw: bool = False) -> str:
    """A table of ``rows`` under ``header``; cells are escaped unless ``raw`` (already HTML)."""
    cell = (lambda v: str(v)) if raw else escape
    head = "".join(f'<th style="{CELL}">{escape(h)}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{cell(v)}</td>' for v in r) + "</tr>" for r in rows)
    return f'<table style="{STYLE}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def fields(pairs) -> str:
    """A two-column table of ``(name, value)``, names bold."""
    body = "".join(f'<tr><td style="{CELL}"><b>{escape(k)}</b></td><td style="{CELL}">{escape(v)}</td></tr>'
                   for k, v in pairs)
    return f'<table style="{STYLE}"><tbody>{body}</tbody></table>'
