"""Reading a page's form as a browser would submit it (successful controls only)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_first: tuple[str, str] | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (self.form_id is None or a.get("id") == self.form_id):
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.select_first is None:
                self.select_first = (self.select, value)
            if "selected" in a:
                self.fields.append((self.select, value))
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "select" and self.select:
            if not self.select_chosen and self.select_first:
                self.fields.append(self.select_first)
            self.select = None
        if tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.text += data


def form_fields(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    parser = _Form(form_id)
    parser.feed(html)
    return parser.fields


class _Controls(HTMLParser):
    """Every control of the first form in the page, with what constrains it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.done = False
        self.controls: list[dict] = []
        self.select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done:
            self.depth += 1
        if not self.depth or self.done:
            return
        name = a.get("name")
        if tag == "input" and name:
            self.controls.append({"name": name, "kind": a.get("type", "text"), "value": a.get("value", ""),
                                  "maxlength": a.get("maxlength"), "required": "required" in a})  # fmt: skip
        elif tag == "textarea" and name:
            self.controls.append({"name": name, "kind": "textarea", "value": "", "maxlength": a.get("maxlength"),
                                  "required": "required" in a})  # fmt: skip
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self.controls.append({"name": name, "kind": "submit", "value": a.get("value", "")})
        elif tag == "select" and name:
            self.select = {"name": name, "kind": "select", "options": []}
            self.controls.append(self.select)
        elif tag == "option" and self.select is not None:
            self.select["options"].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        if tag == "form" and self.depth:
            self.depth -= 1
            self.done = self.depth == 0


def form_controls(html: str) -> list[dict]:
    parser = _Controls()
    parser.feed(html)
    return parser.controls


def post_forms(client, path: str):
    """The post forms of the page at ``path`` (when it is an HTML page): (target, the page's HTML
    from the form's start on), as a browser would send each."""
    import re

    page = client.get(path)
    if page.status_code != 200 or "text/html" not in page.content_type:
        return
    html = page.get_data(as_text=True)
    for form in re.finditer(r'<form[^>]*method="post"[^>]*>', html):
        action = re.search(r'action="([^"]*)"', form.group(0))
        target = action.group(1).replace("&amp;", "&") if action and action.group(1) else path
        yield target, html[form.start() :]
