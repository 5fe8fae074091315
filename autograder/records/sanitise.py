r"""Student text made safe for the instructor's pages: markdown, raw cells and outputs.

A submission is the student's own JSON. Before any of it reaches a page an instructor opens
(formgrader renders ``course/autograded``; JupyterLab opens ``course/submitted``), the grader
passes the notebook through :func:`sanitise_notebook`, so that a ``<script>``, an ``onerror=``,
a ``javascript:`` link or an ``<iframe>`` in a written answer or an output cannot run in the
instructor's browser (where it could call formgrader's API with the instructor's session).

HTML is cleaned by ``nh3`` (the Rust ``ammonia`` sanitiser, an allowlist of tags, attributes
and URL schemes), never by hand-written patterns:

* a **markdown** (or raw) cell's source is kept as written when it holds no HTML at all, which
  is the case of ordinary markdown and LaTeX (``$\alpha < \beta$``, ``a > b``, ``> quote``):
  ``nh3`` changes nothing in it but escape ``<``, ``>`` and ``&``, and the links and images
  that markdown makes have safe URLs. Otherwise the source is replaced by the HTML that
  nbconvert (what formgrader uses) renders from it, cleaned by ``nh3`` and kept on one line so
  that markdown passes it through as one HTML block: the text and the maths read the same,
  the markup is gone;
* **outputs**: ``text/html`` cleaned, ``text/markdown`` as a markdown cell, ``text/plain``,
  ``text/latex`` (escaped by every renderer) and PNG, JPEG, GIF and WebP images kept; every
  other type (``application/javascript``, ``image/svg+xml``, widget views, ...) dropped;
  stream, error and result fields coerced to their types; an output's metadata reduced to
  numeric image sizes;
* **metadata**: a cell keeps ``nbgrader`` (plain values), its ``tags`` (plain names) and a few
  display flags; the notebook keeps its ``kernelspec`` and ``language_info`` (plain values).
  Attachments keep raster images only. Widget state and everything else is dropped.

A ``data:`` URL survives only as an ``<img>``'s raster image; links keep ``http``, ``https``
and ``mailto`` (and relative) URLs.
"""

from __future__ import annotations

import copy
import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import nbformat
import nh3
from nbformat import NotebookNode

#: raster image types kept in outputs and attachments (an SVG can hold scripts).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: output MIME types kept as they are (text/latex is escaped by nbconvert and JupyterLab).
PLAIN_TYPES = ("text/plain", "text/latex")
#: URL schemes a link may use (no scheme: a relative link or an anchor).
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: attributes whose value is a URL.
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "action", "formaction", "background",
                            "poster", "srcset", "longdesc", "xlink:href", "data"})
#: the tags nh3 keeps: its default allowlist (no script, style, iframe, form, object, embed,
#: svg, math, input, ...), which already names only inert elements.
TAGS = frozenset(nh3.ALLOWED_TAGS)
#: per-tag attributes: nh3's defaults (no event handlers, no style), titles, and image sizes.
ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES.setdefault("*", set()).update({"title", "lang", "dir"})
ATTRIBUTES.setdefault("img", set()).update({"alt", "src", "width", "height", "title"})
#: cell metadata kept (display flags), besides ``nbgrader`` and ``tags``.
CELL_FLAGS = ("editable", "deletable", "collapsed", "scrolled")
#: the keys of a cell's ``nbgrader`` metadata.
NBGRADER_KEYS = ("grade", "solution", "locked", "task", "points", "grade_id", "schema_version",
                 "checksum", "cell_type")
#: what a plain name (a tag, a grade id) may contain.
_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,200}")


def _data_url_ok(tag: str, attr: str, value: str) -> bool:
    """A ``data:`` URL is an ``<img src>`` raster image or nothing."""
    lowered = value.strip().lower()
    return tag == "img" and attr == "src" and lowered.startswith(
        tuple(f"data:{kind};" for kind in IMAGE_TYPES))


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr in URL_ATTRIBUTES and value.strip().lower().startswith("data:"):
        return value if _data_url_ok(tag, attr, value) else None
    return value


def clean_html(text: str) -> str:
    """``text`` as an HTML fragment, cleaned by ``nh3`` (see the module docstring)."""
    return nh3.clean(str(text), tags=set(TAGS), attributes=ATTRIBUTES,
                     url_schemes=set(URL_SCHEMES | {"data"}), attribute_filter=_attribute_filter,
                     strip_comments=True, link_rel="noopener noreferrer")


def _escaped(text: str) -> str:
    """``text`` as an HTML serialiser writes a text node (what nh3 returns for plain text)."""
    return html.escape(text, quote=False).replace("\xa0", "&nbsp;")


def holds_html(text: str) -> bool:
    """True when a browser would find any markup (a tag, a comment, an entity) in ``text``.

    ``nh3`` parses ``text`` as HTML; for text without markup it only escapes ``&``, ``<`` and
    ``>``, so anything else it changes was markup (or is ambiguous, e.g. ``x<y``, which HTML
    reads as the start of a tag ``<y``).
    """
    return nh3.clean(text, tags=set(), clean_content_tags=set(), strip_comments=True) \
        != _escaped(text)


class _Urls(HTMLParser):
    """The URL attributes of an HTML document, as (tag, attribute, value)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, name, value or "") for name, value in attrs
                       if name in URL_ATTRIBUTES]

    handle_startendtag = handle_starttag


def _url_ok(tag: str, attr: str, value: str) -> bool:
    # browsers drop ASCII whitespace and control characters before reading the scheme
    squeezed = "".join(ch for ch in value if ord(ch) > 0x20).lower()
    if squeezed.startswith("data:"):
        return _data_url_ok(tag, attr, squeezed)
    try:
        scheme = urlsplit(squeezed).scheme
    except ValueError:
        return False
    return scheme in URL_SCHEMES or scheme == ""  # no scheme: relative, or an anchor


def render_markdown(source: str, attachments: dict[str, Any] | None = None) -> str:
    """The HTML nbconvert renders from a markdown cell (formgrader's ``markdown2html``)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=dict(attachments or {}))
    return MarkdownWithMath(renderer=renderer).render(source)


def clean_markdown(source: str, attachments: dict[str, Any] | None = None) -> str:
    """A markdown cell's source, safe to render (see the module docstring)."""
    source = str(source)
    try:
        rendered = render_markdown(source, attachments)
    except Exception:  # noqa: BLE001 - e.g. a missing attachment: show the text only
        return _escaped(source).replace("\n", "<br>")
    if not holds_html(source):
        urls = _Urls()
        urls.feed(rendered)
        urls.close()
        if all(_url_ok(*found) for found in urls.found):
            return source
    if ("\n" not in source and rendered.strip() == source
            and clean_html(source).replace("\n", "&#10;") == source):
        return source  # already clean HTML that markdown passes through (sanitised before)
    # one line: markdown reads it as a single HTML block and passes it through unchanged
    one_line = clean_html(rendered.strip()).replace("\r", "").replace("\n", "&#10;")
    return f"<div>{one_line}</div>"


def clean_raw(source: str) -> str:
    """A raw cell's source (nbconvert inserts an HTML raw cell as it is): cleaned HTML."""
    source = str(source)
    return source if not holds_html(source) else clean_html(source)


# ----------------------------------------------------------------------------- notebooks


def _text(value: Any) -> str:
    """A notebook text field (a string or a list of strings) as one string."""
    if isinstance(value, list):
        return "".join(str(part) for part in value)
    return "" if value is None else str(value)


def _plain(value: Any) -> Any:
    """``value`` if it is a plain JSON scalar, else None."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and _NAME.fullmatch(value) else None


def _cell_metadata(meta: Any) -> dict[str, Any]:
    meta = meta if isinstance(meta, dict) else {}
    kept: dict[str, Any] = {k: meta[k] for k in CELL_FLAGS
                            if isinstance(meta.get(k), (bool, str))}
    jupyter = meta.get("jupyter")
    if isinstance(jupyter, dict):
        kept["jupyter"] = {k: v for k, v in jupyter.items() if isinstance(v, bool)
                           and _name(k)}
    tags = meta.get("tags")
    if isinstance(tags, list):
        kept["tags"] = [t for t in tags if _name(t)]
    grading = meta.get("nbgrader")
    if isinstance(grading, dict):
        values = {k: _plain(grading.get(k)) for k in NBGRADER_KEYS if k in grading}
        if "grade_id" in values:
            values["grade_id"] = _name(values["grade_id"])
        kept["nbgrader"] = {k: v for k, v in values.items() if v is not None}
    return kept


def _output_metadata(meta: Any, data: dict[str, Any]) -> dict[str, Any]:
    meta = meta if isinstance(meta, dict) else {}
    kept = {}
    for kind in IMAGE_TYPES:
        sizes = meta.get(kind)
        if kind in data and isinstance(sizes, dict):
            numbers = {k: sizes[k] for k in ("width", "height")
                       if isinstance(sizes.get(k), (int, float))
                       and not isinstance(sizes.get(k), bool)}
            if numbers:
                kept[kind] = numbers
    return kept


def _mime_bundle(data: Any) -> dict[str, Any]:
    data = data if isinstance(data, dict) else {}
    kept: dict[str, Any] = {}
    for kind, value in data.items():
        if kind in PLAIN_TYPES:
            kept[kind] = _text(value)
        elif kind == "text/html":
            kept[kind] = clean_html(_text(value))
        elif kind == "text/markdown":
            kept[kind] = clean_markdown(_text(value))
        elif kind in IMAGE_TYPES and isinstance(value, (str, list)):
            kept[kind] = "".join(_text(value).split())  # base64 text, nothing else
    return kept


def sanitise_output(output: Any) -> dict[str, Any] | None:
    """One output, safe to render; None for an output of no known type."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": _text(output.get("text"))}
    if kind == "error":
        traceback = output.get("traceback")
        return {"output_type": "error", "ename": _text(output.get("ename")),
                "evalue": _text(output.get("evalue")),
                "traceback": [_text(line) for line in traceback]
                if isinstance(traceback, list) else []}
    if kind in ("display_data", "execute_result"):
        data = _mime_bundle(output.get("data"))
        dropped = sorted(set(output.get("data") or {}) - set(data)) \
            if isinstance(output.get("data"), dict) else []
        if not data:
            data = {"text/plain": "[output removed by the grader: "
                                  f"{', '.join(map(str, dropped)) or 'no content'}]"}
        new = {"output_type": kind, "data": data,
               "metadata": _output_metadata(output.get("metadata"), data)}
        if kind == "execute_result":
            count = output.get("execution_count")
            new["execution_count"] = count if isinstance(count, int) \
                and not isinstance(count, bool) else None
        return new
    return None


def _attachments(value: Any) -> dict[str, Any]:
    value = value if isinstance(value, dict) else {}
    kept = {}
    for name, bundle in value.items():
        images = {k: "".join(_text(v).split()) for k, v in bundle.items()
                  if k in IMAGE_TYPES} if isinstance(bundle, dict) else {}
        if images and _name(name):
            kept[name] = images
    return kept


def sanitise_cell(cell: Any) -> dict[str, Any] | None:
    """One cell, safe to render; None for something that is not a cell."""
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        return None
    kind = cell["cell_type"]
    new: dict[str, Any] = {"cell_type": kind, "metadata": _cell_metadata(cell.get("metadata")),
                           "source": _text(cell.get("source"))}
    if _name(cell.get("id")):
        new["id"] = cell["id"]
    if kind == "code":
        count = cell.get("execution_count")
        new["execution_count"] = count if isinstance(count, int) \
            and not isinstance(count, bool) else None
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        new["outputs"] = [o for o in map(sanitise_output, outputs) if o is not None]
    elif kind == "markdown":
        attachments = _attachments(cell.get("attachments"))
        new["source"] = clean_markdown(new["source"], attachments)
        if attachments:
            new["attachments"] = attachments
    else:
        new["source"] = clean_raw(new["source"])
    return new


def _notebook_metadata(meta: Any) -> dict[str, Any]:
    meta = meta if isinstance(meta, dict) else {}
    kept = {}
    for key in ("kernelspec", "language_info"):
        value = meta.get(key)
        if isinstance(value, dict):
            kept[key] = {k: v for k, v in value.items() if isinstance(k, str)
                         and isinstance(v, (str, int, float)) and not isinstance(v, bool)}
    return kept


def sanitise_notebook(nb: Any) -> NotebookNode:
    """A copy of notebook ``nb`` (a dict or a ``NotebookNode``) that is safe to render."""
    nb = nb if isinstance(nb, dict) else {}
    cells = nb.get("cells") if isinstance(nb.get("cells"), list) else []
    kept = [c for c in map(sanitise_cell, copy.deepcopy(cells)) if c is not None]
    seen: set[str] = set()
    for number, cell in enumerate(kept):  # nbformat 4.5: every cell has a unique id
        if cell.get("id") in seen or "id" not in cell:
            cell["id"] = f"cell-{number:04d}"
            while cell["id"] in seen:
                cell["id"] += "-x"
        seen.add(cell["id"])
    return nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "cells": kept,
                               "metadata": _notebook_metadata(nb.get("metadata"))})
