"""Every page the tests render is read as an HTML5 document (html5lib, the WHATWG parsing algorithm
browsers follow) and checked for what breaks a page for its user although every test posting to a
URL passes:

- a form nested in a form: a browser drops the inner <form> tag, so its button submits the outer form
  (issue 15: "Send now" saved the campaign instead of sending it);
- a duplicate id: a label, a script or an anchor finds the first element only;
- a form control without a label: a screen reader reads nothing, a click on the words does nothing;
- markup the parser has to repair (a stray end tag, a tag closed in the wrong order, an attribute twice),
  since the browser's repair rarely is what the template meant.

`html_problems(html)` returns the problems as sentences; tests/conftest.py applies it to every HTML
response of Django's test client and tests/e2e/conftest.py to every document the browser loads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import html5lib

# Controls a person fills in or picks; hidden inputs and buttons carry their own text.
_UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}

# html5lib's parse errors that mean the document is not what the template meant. The rest
# (a missing doctype in a fragment, an unknown entity in a URL, "&" not escaped) a browser reads the same way.
_PARSE_ERRORS_THAT_MATTER = {
    "unexpected-start-tag": "a start tag where it cannot be",  # <form> in <form>, <html> in <body>
    "unexpected-end-tag": "an end tag with no open element",
    "end-tag-too-early": "an end tag closing elements still open inside it",
    "end-tag-too-early-named": "an end tag closing elements still open inside it",
    "adoption-agency-1.1": "misnested tags",
    "adoption-agency-1.2": "misnested tags",
    "adoption-agency-1.3": "misnested tags",
    "adoption-agency-4.4": "misnested tags",
    "unexpected-start-tag-implies-end-tag": "a start tag that closes an open element of the same kind",
    "unexpected-end-tag-before-html": "an end tag before <html>",
    "unexpected-form-in-table": "a form inside a table's structure",
    "unexpected-start-tag-implies-table-voodoo": "content inside a table outside a cell",
    "unexpected-end-tag-implies-table-voodoo": "an end tag inside a table outside a cell",
    "unexpected-cell-in-table-body": "a cell outside a row",
    "unexpected-cell-end-tag": "a cell end tag without its cell",
    "duplicate-attribute": "an attribute given twice",
    "eof-in-tag-name": "the document ends inside a tag",
    "eof-in-attribute-value-double-quote": "the document ends inside an attribute",
    "eof-in-attribute-value-single-quote": "the document ends inside an attribute",
}


def html_problems(html: str) -> list[str]:
    """What is wrong with this page, as sentences (empty: nothing)."""
    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False)
    if html.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        root = parser.parse(html)
    else:  # a fragment (a partial page a script asks for)
        root = parser.parseFragment(html)
    problems = _parse_errors(parser.errors, html)
    elements = list(root.iter()) if hasattr(root, "iter") else []
    problems += _duplicate_ids(elements)
    problems += _unlabelled_controls(root)
    problems += _python_none_shown(root)
    return problems


def _python_none_shown(root) -> list[str]:
    """A value Python had none for, shown as the word "None" (Django's read-only fields print what a display
    method returns: a method that returns None shows "None" instead of the admin's "-")."""
    if not hasattr(root, "iter"):
        return []
    return [f'a read-only value reads "None" (<{el.tag} class="{el.get("class")}">)' for el in root.iter()
            if isinstance(el.tag, str) and "readonly" in (el.get("class") or "").split()
            and "".join(el.itertext()).strip() == "None"]


def _parse_errors(errors: Iterable, html: str) -> list[str]:
    lines = html.splitlines()
    problems = []
    for (line, column), code, data in errors:
        if code not in _PARSE_ERRORS_THAT_MATTER:
            continue
        name = (data or {}).get("name", "")
        if code == "unexpected-start-tag" and name == "form":
            what = "a <form> inside another <form> (the browser drops it: its buttons submit the outer form)"
        else:
            what = f"{_PARSE_ERRORS_THAT_MATTER[code]} ({code}{f', <{name}>' if name else ''})"
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        source = text[max(0, column - 100):column + 40].strip()
        problems.append(f"line {line}: {what}: {source}")
    return problems


def _duplicate_ids(elements: list) -> list[str]:
    ids = Counter(el.get("id") for el in elements if isinstance(el.tag, str) and el.get("id"))
    return [f'id="{id_}" is used {n} times' for id_, n in sorted(ids.items()) if n > 1]


def _unlabelled_controls(root) -> list[str]:
    if not hasattr(root, "iter"):
        return []
    labelled_ids = {label.get("for") for label in root.iter("label") if label.get("for")}
    inside_label = {id(el) for label in root.iter("label") for el in label.iter()}
    problems = []
    for el in root.iter():
        if not _is_control(el) or id(el) in inside_label:
            continue
        if el.get("id") in labelled_ids or any((el.get(a) or "").strip() for a in ("aria-label", "aria-labelledby", "title")):
            continue
        attrs = " ".join(f'{k}="{v}"' for k, v in el.attrib.items() if k in {"name", "id", "type"})
        problems.append(f"<{el.tag} {attrs}> has no label (label for=, a wrapping label, aria-label, aria-labelledby or title)")
    return problems


def _is_control(el) -> bool:
    if el.tag in {"select", "textarea"}:
        return True
    return el.tag == "input" and (el.get("type") or "text").lower() not in _UNLABELLED_INPUT_TYPES
