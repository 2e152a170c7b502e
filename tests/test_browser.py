"""What a learner sees, in a real browser: JupyterLab with the release notebooks, the widgets, and the
mock's live journal page. Playwright drives Debian's Chromium (`apt-get install chromium`).

They run with `make test-browser` (MOMLAB_BROWSER_TESTS=1). Screenshots land in test-artifacts/
(git-ignored). Without Chromium they skip with a message, except under CI (CI=true), where a missing
browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RELEASES = sorted(p.relative_to(ROOT / "notebooks").as_posix() for p in (ROOT / "notebooks").glob("*/*.ipynb"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# The page may log failed look-ups of outside hosts (there is no network); those are not our errors.
BENIGN = ("Failed to load resource", "net::ERR_", "favicon", "announcements", "news")

if not os.environ.get("MOMLAB_BROWSER_TESTS"):
    pytest.skip("browser tests run with `make test-browser` (they need Chromium)", allow_module_level=True)
if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: the browser tests must run in CI (apt-get install chromium)", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.xdist_group(name="browser")  # one JupyterLab and one browser for all of them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WIDGETS_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "widgets",
            "metadata": {},
            "outputs": [],
            "source": (
                "import ipywidgets as w\n"
                "import momlab\n"
                "from momlab import orders, widgets\n"
                "mom = momlab.start(step_delay=0)\n"
                "mom.client.call('magento.sales.order_management.create', orders.order_params('B-1', ['TEE-ORG-S']))\n"
                "w.VBox([widgets.journal_viewer(mom), widgets.message_builder(mom), widgets.stock_explorer(mom)])"
            ),
        }
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab as `make lab` starts it (learner extensions only), on a copy of notebooks/."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "notebooks" / "widgets-check.ipynb").write_text(json.dumps(WIDGETS_NOTEBOOK))
    # Render every cell (JupyterLab 4 otherwise renders only the cells near the viewport), and keep
    # the settings out of the real user's JupyterLab.
    settings = root / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root / 'notebooks'}", f"--LabApp.user_settings_dir={root / 'settings'}",
         f"--LabApp.workspaces_dir={root / 'workspaces'}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{url}/api", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail("JupyterLab did not start within 90 s")
        time.sleep(0.5)
    yield url
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def new_page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


def our_errors(page) -> list[str]:
    return [e for e in page.console_errors if not any(word in e for word in BENIGN)]


def open_notebook(page, url: str, path: str):
    page.goto(f"{url}/lab/tree/{path}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=90_000)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)


def run_first_code_cell(page):
    """Run the first code cell. A key press made while the kernel is still starting can be lost, so
    press again (the set-up cells are safe to run twice) until the cell shows output."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").first
    output = cell.locator(".jp-OutputArea-output").first
    for _ in range(4):
        cell.locator(".jp-InputArea-editor").click(timeout=90_000)
        page.keyboard.press("Shift+Enter")
        try:
            output.wait_for(timeout=30_000)
            break
        except playwright.TimeoutError:
            continue
    output.wait_for(timeout=60_000)
    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"]', timeout=90_000)
    return cell


def test_there_are_release_notebooks():
    assert RELEASES


@pytest.mark.parametrize("path", RELEASES)
def test_release_notebook_opens_and_its_setup_cell_runs(lab_server, browser, path):
    page = new_page(browser)
    open_notebook(page, lab_server, path)
    cell = run_first_code_cell(page)
    outputs = cell.locator(".jp-OutputArea").inner_text()
    assert "Traceback" not in outputs and "Error" not in outputs, f"the set-up cell of {path} failed:\n{outputs}"
    assert page.get_by_role("button", name="Validate").count() >= 1, "nbgrader's Validate button is missing"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{Path(path).stem}.png"))
    assert not our_errors(page), f"browser console errors on {path}: {our_errors(page)}"
    page.close()


def test_widgets_render_and_respond(lab_server, browser):
    page = new_page(browser)
    open_notebook(page, lab_server, "widgets-check.ipynb")
    cell = run_first_code_cell(page)
    cell.locator(".widget-select select").first.wait_for(timeout=60_000)
    assert "Error displaying widget" not in cell.inner_text()

    # journal viewer: pick a message, see its body
    viewer_select = cell.locator(".widget-select select").first
    viewer_select.select_option(index=0)
    page.wait_for_function("document.body.innerText.includes('summary') || document.querySelector('details') !== null", timeout=30_000)
    assert cell.locator("details summary", has_text="body").count() >= 1

    # message builder: choose a message, break a field, see the validation message, mend it
    dropdowns = cell.locator(".widget-dropdown select")
    for index in range(dropdowns.count()):
        if "magento.inventory.source_stock_management.update" in dropdowns.nth(index).inner_text():
            dropdowns.nth(index).select_option("magento.inventory.source_stock_management.update")
            break
    mode_field = cell.locator(".widget-text", has_text="snapshot.mode")
    mode_field.wait_for(timeout=30_000)
    mode_input = mode_field.locator("input")
    mode_input.fill("delta")
    mode_input.press("Enter")
    page.wait_for_function("document.body.innerText.includes('Not valid yet')", timeout=30_000)
    mode_input.fill("DELTA")
    mode_input.press("Enter")
    page.wait_for_function("document.body.innerText.includes('Valid: ready to send')", timeout=30_000)

    # stock explorer: type a snapshot, see the preview, send it
    textarea = cell.locator(".widget-textarea textarea")
    textarea.fill("TEE-ORG-S,5\nBROWSER-SKU,2")
    textarea.press("Tab")
    page.wait_for_function("document.body.innerText.includes('BROWSER-SKU')", timeout=30_000)
    cell.get_by_role("button", name="Send snapshot").click()
    page.wait_for_function("document.body.innerText.includes('\"applied\"')", timeout=30_000)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widgets.png"), full_page=True)
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"
    page.close()


def test_journal_page_updates_live_escapes_and_works_by_keyboard(start_mock, browser):
    mock = start_mock()
    page = new_page(browser)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{mock.url}/")
    page.wait_for_selector("#state:has-text('messages')", timeout=20_000)

    mock.client.call("magento.inventory.source_repository.search", {})
    page.wait_for_selector("td.method:has-text('magento.inventory.source_repository.search')", timeout=10_000)  # no reload

    nasty = "<script>alert(1)</script>"
    mock.client.send({"jsonrpc": "2.0", "id": 1, "method": nasty, "params": {}})
    page.wait_for_selector(f"td.method:has-text('{nasty}')", timeout=10_000)
    assert page.locator("script", has_text="alert(1)").count() == 0 and not dialogs, "a message's text ran as HTML"

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-method"
    page.keyboard.type("repository")
    page.wait_for_function("document.querySelectorAll('#rows tr').length === 1", timeout=5_000)
    for _ in range(4):  # past the two selects to the row's "show" button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    page.keyboard.press("Enter")
    assert page.locator("button[aria-expanded='true']").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "journal-page.png"), full_page=True)
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"
    page.close()
