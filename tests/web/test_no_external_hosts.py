"""Nothing is loaded from another host: every page (the API docs page included) and every stylesheet and
script the app serves refers to this app only, and the Content-Security-Policy says so on every page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.conftest import Browser
from tests.web.test_every_route import _routes, _url, ids  # noqa: F401  (ids is a fixture)

# Attributes that make a browser fetch something (links a person clicks, <a href>, fetch nothing).
LOADING = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("form", "action"),
    ("image", "href"),
    ("use", "href"),
}
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*['\"]?\s*(https?:)?//|@import\s+['\"]?(https?:)?//", re.IGNORECASE)
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'"


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (tag, name) in LOADING and value:
                self.loads.append(value)
            if name == "style" and value and CSS_URL.search(value):
                self.loads.append(value)
        found = dict(attrs)
        # A data block (type="application/json") is never run; any other inline script would be.
        self._in_script = tag == "script" and not found.get("src") and found.get("type") != "application/json"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def _check_page(html: str, where: str) -> list[str]:
    parser = _Loads()
    parser.feed(html)
    external = [url for url in parser.loads if EXTERNAL.match(url)]
    assert not external, (where, external)
    assert parser.inline_scripts == 0, where  # the policy would block them anyway
    return parser.loads


def test_no_page_loads_anything_from_another_host(app, browsers: dict[str, Browser], ids) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    manager = browsers["manager"]
    urls = ["/", "/login", "/account", "/api/v1/docs"] + [
        _url(path, ids) for method, path in _routes(app) if method == "GET" and not path.startswith("/api/")
    ]
    assets: set[str] = set()
    for url in urls:
        response = manager.get(url)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        assert response.headers["content-security-policy"].startswith(CSP), url
        assets.update(a for a in _check_page(response.text, url) if a.startswith("/static/"))
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in sorted(assets):
        response = manager.get(asset)
        assert response.status_code == 200, asset
        if asset.endswith(".css"):
            assert not CSS_URL.search(response.text), asset


def test_the_api_docs_page_serves_swagger_ui_from_the_package(browsers: dict[str, Browser]) -> None:
    anonymous = browsers["anonymous"]
    page = anonymous.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith(CSP)
    loads = _check_page(page.text, "/api/v1/docs")
    assert loads == [
        "/static/swagger-ui/swagger-ui.css",
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/api-docs.js",
    ]
    for asset in loads:
        assert anonymous.get(asset).status_code == 200, asset
    assert 'data-openapi-url="/api/v1/openapi.json"' in page.text
    assert anonymous.get("/api/v1/openapi.json").json()["info"]["title"] == "Reticulist API"
    starter = anonymous.get("/static/api-docs.js").text
    assert "validatorUrl: null" in starter  # no validator badge fetched from elsewhere
