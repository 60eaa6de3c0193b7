"""GraphiQL from our own origin: headless Chromium with every other address blocked loads
`GET /graphql`, shows the editor, the explorer and the headers tab, and runs a query."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from server.graphiql import ASSETS_DIR, SCRIPTS, STYLESHEETS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_every_asset_the_page_names_is_shipped_with_its_licence():
    for name in (*STYLESHEETS, *SCRIPTS):
        assert (ASSETS_DIR / name).stat().st_size > 0, name
    licences = {path.name for path in (ASSETS_DIR / "licenses").iterdir()}
    assert {"react.LICENSE", "react-dom.LICENSE", "graphiql.LICENSE", "plugin-explorer.LICENSE"} <= licences
    readme = (ASSETS_DIR / "README.md").read_text()
    assert "3.8.3" in readme and "18.2.0" in readme and "1.0.2" in readme


async def test_the_page_names_only_our_origin(client):
    response = await client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "http://" not in response.text and "https://" not in response.text and "//unpkg" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
    for name in (*STYLESHEETS, *SCRIPTS):
        asset = await client.get(f"/graphiql/{name}")
        assert asset.status_code == 200, name
    assert (await client.get("/graphiql/../app.py")).status_code == 404


async def test_a_browser_gets_graphiql_an_api_client_gets_an_error(client):
    browser = await client.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert "Sitedesk GraphiQL" in browser.text
    api = await client.get("/graphql", headers={"accept": "application/json"})
    assert api.status_code == 400
    assert api.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
async def test_graphiql_runs_a_query_in_chromium_without_internet(live_server, world, tmp_path):
    from playwright.async_api import async_playwright

    outside: list[str] = []

    async def only_our_server(route):
        if route.request.url.startswith(live_server + "/"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    query = "query Me {\n  me {\n    name\n  }\n}\n"
    headers = json.dumps({"Authorization": f"Bearer {world.admin.token}"})
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 800})
            await context.route("**/*", only_our_server)
            # The headers tab persists what it holds; this is what a person would have typed there.
            await context.add_init_script(f"localStorage.setItem('graphiql:headers', {json.dumps(headers)});")
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{live_server}/graphql?{httpx.QueryParams({'q': query})}")
            await page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=30000)
            assert await page.locator(".graphiql-query-editor").inner_text() != ""
            # The headers tab is there and holds the token.
            await page.locator("button[data-name=headers]").click()
            assert "Authorization" in await page.locator(".graphiql-editor-tool").inner_text()
            # The explorer plugin lists the schema's root fields.
            await page.get_by_role("button", name="Show GraphiQL Explorer").click()
            await page.wait_for_selector(".graphiql-explorer-root", timeout=30000)
            assert "ticketTypes" in await page.locator(".graphiql-explorer-root").inner_text()
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".graphiql-response")
            await result.get_by_text('"name": "Admin"').wait_for(timeout=30000)
            shot = tmp_path / "graphiql.png"
            await page.screenshot(path=str(shot))
            if target := os.environ.get("SITEDESK_GRAPHIQL_SCREENSHOT"):
                shutil.copy(shot, target)
        finally:
            await browser.close()
    assert outside == []
    assert errors == []
