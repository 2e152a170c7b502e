"""What a learner sees, in a real browser: JupyterLab as `make lab` opens it, every release notebook
run with Run > Run All Cells, the widgets, and the mock's live journal page. Playwright drives Debian's
Chromium (`apt-get install chromium`); it never downloads a browser.

They are part of `make test`; `make test-browser` runs only them. Without Chromium they skip with a
message, except under CI (CI=true), where a missing browser is a failure. Screenshots land in
test-artifacts/ (git-ignored): one per notebook, one per widget, the journal page; with JupyterLab's log.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.builders import order_params
from tests.support.paths import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# One release notebook per solution notebook: nbgrader generates notebooks/ from solutions/.
RELEASES = sorted(p.relative_to(ROOT / "solutions").as_posix() for p in (ROOT / "solutions").glob("*/*.ipynb"))
# What `make lab` opens first, and the course's JupyterLab defaults it adds to Jupyter's config path.
FIRST_LAB = "01-mom-api/01-mom-api.ipynb"
LAB_CONFIG = ROOT / "jupyter-config"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Console errors that are not ours: JupyterLab logs "Canceled future for <request>" when a kernel started
# ahead of time (see Kernels) is still starting as the notebook connects and the connection is renewed;
# the notebook then runs as usual.
BENIGN = ("Canceled future for ",)
# The tag that lets Run All go past a cell that raises: the release's answer and test cells carry it.
EXERCISE_TAG = "raises-exception"
RUN_ALL_SECONDS = 300  # the slowest notebook takes well under a minute on a busy 2-core machine
STEP = 30_000  # ms to wait for one thing to appear after a click

if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: the browser tests must run in CI (apt-get install chromium)", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium); browser tests skipped", allow_module_level=True)

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402  (only once we know there is a browser)
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# A notebook that sets the widgets up with something to show: an order, and a delivery that failed
# because the warehouse's handler raised (it is fixed before the retry).
WIDGETS_SOURCE = """\
import ipywidgets as w
import momlab
from momlab import orders, widgets

mom = momlab.start(step_delay=0, max_attempts=1)
wms = momlab.Receiver(id="wms")
closed = True

@wms.on("magento.logistics.warehouse_management.request_shipment")
def ship(params):
    if closed:
        raise RuntimeError("the warehouse is closed")
    return {}

wms.start()
wms.register(mom.client)
mom.client.call("magento.sales.order_management.create", orders.order_params("B-1", ["TEE-ORG-S"]))
mom.wait_idle()
closed = False
w.VBox([widgets.journal_viewer(mom), widgets.message_builder(mom), widgets.stock_explorer(mom)])
"""


def notebook(source: str) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "id": "only", "metadata": {}, "outputs": [], "source": source}
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}


def write_settings(folder: Path, plugin: str, values: dict) -> None:
    package, name = plugin.rsplit(":", 1)
    (folder / package).mkdir(parents=True, exist_ok=True)
    (folder / package / f"{name}.jupyterlab-settings").write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab as `make lab` starts it (learner extensions only), on a copy of notebooks/."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "notebooks" / "widgets-check.ipynb").write_text(json.dumps(notebook(WIDGETS_SOURCE)))
    # The course's defaults come from LAB_CONFIG, as in `make lab`. User settings of our own, not the real
    # user's: render every cell (JupyterLab 4 otherwise renders only those near the viewport).
    settings = root / "settings"
    write_settings(settings, "@jupyterlab/notebook-extension:tracker", {"windowingMode": "none"})
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "jupyterlab.log").open("w")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "JUPYTER_CONFIG_DIR": str(root / "config"),
           "JUPYTER_CONFIG_PATH": str(LAB_CONFIG)}
    server = subprocess.Popen(
        [str(bin_dir / "jupyter"), "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1", "--IdentityProvider.token=",
         "--LabApp.expose_app_in_browser=True", f"--LabApp.default_url=/lab/tree/{FIRST_LAB}",
         f"--ServerApp.root_dir={root / 'notebooks'}", f"--LabApp.user_settings_dir={settings}",
         f"--LabApp.workspaces_dir={root / 'workspaces'}", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{url}/api", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"JupyterLab did not start within 90 s; see {ARTIFACTS / 'jupyterlab.log'}")
        time.sleep(0.3)
    yield url
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance.new_context(viewport={"width": 1400, "height": 1000})
        instance.close()


def new_page(browser):
    """A page that records what the browser console reports."""
    page = browser.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(f"{message.text} ({message.location.get('url')})"))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


def our_errors(page) -> list[str]:
    return [e for e in page.console_errors if not any(word in e for word in BENIGN)]


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.close()


class Kernels:
    """Kernels started ahead of time, by notebook path: JupyterLab connects a notebook it opens to the
    kernel already running for it, so the next notebook's kernel starts while the current one is tested."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.http.get(f"{url}/lab", timeout=30)  # sets the _xsrf cookie the server wants echoed on changes
        self.http.headers["X-XSRFToken"] = self.http.cookies.get("_xsrf", "")

    def sessions(self) -> dict[str, dict]:
        return {s["path"]: s for s in self.http.get(f"{self.url}/api/sessions", timeout=10).json()}

    def start(self, path: str) -> None:
        if path not in self.sessions():
            body = {"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}}
            self.http.post(f"{self.url}/api/sessions", json=body, timeout=60).raise_for_status()

    def stop(self, path: str) -> None:
        session = self.sessions().get(path)
        if session:
            self.http.delete(f"{self.url}/api/sessions/{session['id']}", timeout=30).raise_for_status()


@pytest.fixture(scope="module")
def kernels(lab_server):
    return Kernels(lab_server)


@pytest.fixture(scope="module")
def lab_tab(browser, lab_server):
    """One JupyterLab page for all the notebook tests, as a learner keeps one open."""
    page = new_page(browser)
    page.goto(f"{lab_server}/lab/workspaces/tests")
    page.wait_for_function("window.jupyterapp !== undefined", timeout=90_000)
    page.evaluate("() => window.jupyterapp.restored")
    yield page
    page.close()


# Close every open document without asking to save (the notebooks are copies).
CLOSE_ALL = "() => { for (const widget of Array.from(window.jupyterapp.shell.widgets('main'))) widget.dispose(); }"


@pytest.fixture
def lab(lab_tab, kernels):
    """JupyterLab with nothing open. After the test, the kernels of the notebooks it opened are shut
    down, then the notebooks closed."""
    page = lab_tab
    page.evaluate(CLOSE_ALL)
    page.console_errors.clear()
    page.opened = []
    yield page
    for path in page.opened:
        kernels.stop(path)
    page.keyboard.press("Escape")  # a menu or dialog left open
    page.evaluate(CLOSE_ALL)


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


# The notebook panel with this id (a JavaScript expression).
PANEL = "Array.from(window.jupyterapp.shell.widgets('main')).find(widget => widget.id === id)"


def open_notebook(page, path: str):
    """Open a notebook, as a double click in the file browser does, and wait for its kernel. Returns
    the notebook's panel."""
    page.opened.append(path)
    panel_id = page.evaluate("async path => (await window.jupyterapp.commands.execute('docmanager:open', {path})).id", path)
    panel = page.locator(f"[id='{panel_id}']")
    expect(panel.locator(".jp-CodeCell").first, f"{path} did not open").to_be_visible(timeout=90_000)
    wait_for_idle_kernel(page, panel_id, f"the kernel of {path} did not start")
    return panel


# What the notebook with this id shows of its kernel: "idle" once connected and ready. The status bar's
# execution indicator says "idle" before that too, while JupyterLab still shows the kernel initializing.
KERNEL_STATUS = "id => " + PANEL + ".sessionContext.kernelDisplayStatus"


def wait_for_idle_kernel(page, panel_id: str, problem: str) -> None:
    try:
        page.wait_for_function(KERNEL_STATUS + " === 'idle'", arg=panel_id, timeout=90_000)
    except PlaywrightTimeout:
        pytest.fail(f"{problem} (it shows {page.evaluate(KERNEL_STATUS, panel_id)!r} after 90 s)")


def no_dialog(page) -> None:
    """Fail on a dialog in the way, except a kernel dialog: on a busy machine JupyterLab may ask which
    kernel to use while the one started early is still connecting; a learner would accept the default."""
    dialog = page.locator(".jp-Dialog")
    if not dialog.count():
        return
    text = dialog.first.inner_text()
    screenshot(page, "dialog")
    if "kernel" not in text.lower():
        pytest.fail(f"a JupyterLab dialog is in the way: {text!r}")
    dialog.first.locator(".jp-mod-accept").first.click()
    expect(dialog, f"the kernel dialog did not close: {text!r}").to_have_count(0, timeout=10_000)


def run_first_code_cell(page, panel):
    """Run the first code cell and wait until it has finished. Returns the cell."""
    cell = panel.locator(".jp-CodeCell").first
    prompt = cell.locator(".jp-InputPrompt")
    for _ in range(3):  # a key press made while the kernel is still connecting can be lost
        no_dialog(page)
        try:
            cell.locator(".jp-InputArea-editor").click(timeout=15_000)
        except PlaywrightTimeout:  # a dialog opened in between: deal with it, then try again
            continue
        page.keyboard.press("Shift+Enter")
        try:
            expect(prompt).not_to_have_text(re.compile(r"\[ \]"), timeout=10_000)
            break
        except AssertionError:
            continue
    expect(prompt, "the first code cell did not finish running").to_have_text(re.compile(r"\[\d+\]"), timeout=120_000)
    return cell


def failed_outputs(cell) -> str:
    """Text of the cell's error and stderr outputs (a traceback, a warning), empty when there are none."""
    return "\n".join(cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts())


# The code cells' models of the notebook panel with this id (a JavaScript expression).
CODE_CELLS = PANEL + ".content.widgets.map(cell => cell.model).filter(model => model.type === 'code')"

# Every code cell as its model has it: whether it is an exercise cell (tagged), execution count, error
# outputs ("Name: value"), stderr text and the source's first line.
CELLS = "([id, tag]) => " + CODE_CELLS + """.map(model => {
  const outputs = model.outputs.toJSON();
  return {
    exercise: (model.getMetadata('tags') || []).includes(tag),
    count: model.executionCount,
    errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
    stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(o => [].concat(o.text).join('')).join(''),
    first_line: model.sharedModel.getSource().split('\\n')[0],
  };
})"""

# Where Run All has got to: the kernel's status as the notebook shows it, the code cells running and run,
# and whether it has finished. Run All runs one cell after another and stops at an error, except in a
# tagged cell: it has finished once no cell is running and either the last code cell has run or an
# untagged cell failed. `notes` are the notifications on screen (JupyterLab says there why it ran nothing).
RUN_STATE = "([id, tag]) => { const code = " + CODE_CELLS + """;
  const failed = model => model.outputs.toJSON().some(output => output.output_type === 'error');
  const running = code.flatMap((model, number) => model.executionState === 'running' ? [number] : []);
  const stopped = code.some(model => model.executionCount !== null && failed(model) && !(model.getMetadata('tags') || []).includes(tag));
  return {
    status: """ + PANEL + """.sessionContext.kernelDisplayStatus,
    running,
    run: code.filter(model => model.executionCount !== null).length,
    cells: code.length,
    done: !running.length && (code[code.length - 1].executionCount !== null || stopped),
    notes: Array.from(document.querySelectorAll('.Toastify__toast')).map(toast => toast.innerText),
  };
}"""
RUN_ALL_STALL_SECONDS = 30  # no cell running and nothing new run for this long: Run All has stopped


def click_run_all(page, panel) -> None:
    """Run > Run All Cells from the menu bar, as a learner does, once the notebook shows its kernel idle
    (while it shows the kernel initializing, JupyterLab runs no cell and says so in a notification)."""
    wait_for_idle_kernel(page, panel.get_attribute("id"), "the kernel is not idle")
    no_dialog(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def run_all_cells(page, panel) -> None:
    """Run All Cells and wait until it has finished. If it ran no cell at all (JupyterLab refuses while it
    still shows the kernel initializing), click it again once, as a learner told so would. Fails, saying
    where Run All stood, if it stops early or does not finish within RUN_ALL_SECONDS."""
    args = [panel.get_attribute("id"), EXERCISE_TAG]
    click_run_all(page, panel)
    started = time.monotonic()
    clicks, progress, last_change = 1, None, started
    while True:
        state = page.evaluate(RUN_STATE, args)
        if state["done"]:
            return
        now = time.monotonic()
        if (state["run"], state["running"]) != progress:
            progress, last_change = (state["run"], state["running"]), now
        elif not state["running"] and now - last_change > RUN_ALL_STALL_SECONDS:
            if state["run"] == 0 and clicks == 1:
                print(f"Run All ran no cell in {RUN_ALL_STALL_SECONDS} s (the kernel shows {state['status']!r}; "
                      f"notifications: {state['notes']}): clicked again")
                clicks, last_change = 2, now
                click_run_all(page, panel)
                continue
            break
        if now - started > RUN_ALL_SECONDS:
            break
        time.sleep(0.5)
    no_dialog(page)
    screenshot(page, "run-all-stopped")
    running = f"code cell {state['running'][0] + 1}" if state["running"] else "none"
    pytest.fail(f"Run All Cells did not finish (after {time.monotonic() - started:.0f} s, {clicks} click(s)): "
                f"{state['run']} of {state['cells']} code cells run, running: {running}; the kernel shows "
                f"{state['status']!r}; notifications: {state['notes']}; browser console errors: {our_errors(page)}")


def where(number: int, cell: dict) -> str:
    return f"code cell {number + 1} ({cell['first_line'][:70]!r})"


def test_there_is_a_release_notebook_for_each_solution():
    assert len(RELEASES) == 14, f"expected the 13 lab notebooks and the answer sheet in solutions/, found {RELEASES}"
    missing = [path for path in RELEASES if not (ROOT / "notebooks" / path).is_file()]
    assert not missing, f"release notebooks missing from notebooks/ (run `make release`): {missing}"


def test_make_lab_opens_lab_01_with_the_course_settings():
    """`make lab` starts JupyterLab as lab_server does: lab 01 first, the course's defaults on Jupyter's
    config path. (`make --dry-run` prints the commands without running them.)"""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    printed = subprocess.run(["make", "--no-print-directory", "--dry-run", "lab"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    command = printed.replace("\\\n", " ").strip().splitlines()[-1]
    assert "jupyter lab --notebook-dir=notebooks" in command, f"not the JupyterLab command: {command}"
    assert f"--LabApp.default_url=/lab/tree/{FIRST_LAB} " in command, f"`make lab` does not open {FIRST_LAB}: {command}"
    assert command.startswith(f"JUPYTER_CONFIG_PATH={LAB_CONFIG}"), f"`make lab` does not use {LAB_CONFIG}: {command}"
    assert (ROOT / "notebooks" / FIRST_LAB).is_file()


def test_first_screen_is_lab_01_without_the_news_toast(browser, lab_server, kernels):
    """What a learner sees first: lab 01 open and its kernel idle, no Launcher, no Jupyter news toast."""
    page = new_page(browser)
    try:
        page.goto(f"{lab_server}/")
        notebook_tab = page.locator(".jp-mod-current .lm-TabBar-tabLabel")
        expect(notebook_tab, "JupyterLab did not open lab 01 first").to_have_text(Path(FIRST_LAB).name, timeout=90_000)
        expect(page.locator("#jp-main-statusbar"), "lab 01's kernel did not start").to_contain_text("| Idle", timeout=90_000)
        expect(page.locator(".jp-Launcher"), "the Launcher opened as well").to_have_count(0)
        news = page.get_by_text("Jupyter news")
        expect(news, "JupyterLab's news toast is shown").to_have_count(0)
        news_setting = requests.get(f"{lab_server}/lab/api/settings/@jupyterlab/apputils-extension:notification", timeout=10).json()
        assert news_setting["schema"]["properties"]["fetchNews"]["default"] == "false", "the course's JupyterLab defaults are not applied"
        notebook = requests.get(f"{lab_server}/lab/api/settings/@jupyterlab/notebook-extension:tracker", timeout=10).json()
        defaults = {name: spec["default"] for name, spec in notebook["schema"]["properties"].items() if "default" in spec}
        assert defaults["codeCellConfig"]["lineWrap"] is True, "long lines of code are not wrapped (the course's defaults)"
        assert defaults["enableKernelInitNotification"] is True, "a cell run while the kernel starts is not announced"
        assert defaults["autoStartDefaultKernel"] is True, "opening a notebook may ask which kernel to start"
        screenshot(page, "first-screen")
        assert not our_errors(page), f"browser console errors: {our_errors(page)}"
    finally:
        page.close()
        kernels.stop(FIRST_LAB)


@pytest.mark.parametrize("path", RELEASES)
def test_release_notebook_runs_all_cells_to_the_end(lab, kernels, path):
    """Run > Run All Cells on the untouched release goes past the unfinished exercises to the last cell,
    and only the exercises' answer and test cells show an error (a traceback, or stderr's pink box), never a
    NameError (a knowledge check says which answer to give first: grading.answered)."""
    page = lab
    following = RELEASES[RELEASES.index(path) + 1:] or ["widgets-check.ipynb"]
    kernels.start(path)
    kernels.start(following[0])  # starts while this one is tested
    panel = open_notebook(page, path)
    expect(panel.get_by_role("button", name="Validate"), "nbgrader's Validate button is missing").to_be_visible()
    run_all_cells(page, panel)
    code = list(enumerate(page.evaluate(CELLS, [panel.get_attribute("id"), EXERCISE_TAG])))
    stray = [(number, cell) for number, cell in code
             if ((cell["errors"] or cell["stderr"]) and not cell["exercise"]) or any(e.startswith("NameError") for e in cell["errors"])]
    not_run = [(number, cell) for number, cell in code if cell["count"] is None]
    shown = (stray or not_run or code[-1:])[0][0]  # the screenshot shows the first problem, or the end
    panel.locator(".jp-CodeCell").nth(shown).scroll_into_view_if_needed()
    screenshot(page, Path(path).stem)

    assert not stray, f"{path}: errors outside the answer and test cells, or a NameError:\n" + "\n".join(
        f"  {where(number, cell)}: {'; '.join(cell['errors']) or cell['stderr'][:300]}" for number, cell in stray)
    assert not not_run, f"{path}: Run All did not reach {len(not_run)} code cell(s), the first is {where(*not_run[0])}"
    expect(panel.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output").first,
           f"the set-up cell of {path} showed nothing").to_be_visible()
    assert not our_errors(page), f"browser console errors on {path}: {our_errors(page)}"


def test_jupyterlab_has_the_learners_nbgrader_tools_only(lab):
    page = lab
    page.get_by_role("menuitem", name="Nbgrader").click()
    menu = page.locator(".lm-Menu")
    expect(menu.get_by_text("Assignment List"), "the learner's Assignment List is missing").to_be_visible()
    items = menu.inner_text()
    assert "Formgrader" not in items and "Create assignment" not in items, f"instructor tools are enabled: {items}"
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"


def widget_screenshots(page, viewer, builder, explorer, suffix: str = "") -> None:
    """One screenshot per widget, each whole, in test-artifacts/widget-<name><suffix>.png."""
    page.set_viewport_size({"width": 1400, "height": 2600})  # tall enough for each widget to be seen whole
    try:
        for name, widget in (("journal-viewer", viewer), ("message-builder", builder), ("stock-explorer", explorer)):
            widget.screenshot(path=str(ARTIFACTS / f"widget-{name}{suffix}.png"))
    finally:
        page.set_viewport_size({"width": 1400, "height": 1000})


def test_widgets_render_and_respond(lab, kernels):
    page = lab
    kernels.start("widgets-check.ipynb")
    panel = open_notebook(page, "widgets-check.ipynb")
    cell = run_first_code_cell(page, panel)
    assert not failed_outputs(cell), f"the widgets' set-up failed:\n{failed_outputs(cell)}"
    viewer = cell.locator(".momlab-journal-viewer")
    builder = cell.locator(".momlab-message-builder")
    explorer = cell.locator(".momlab-stock-explorer")
    for name, widget in (("journal viewer", viewer), ("message builder", builder), ("stock explorer", explorer)):
        expect(widget, f"the {name} did not render").to_be_visible(timeout=STEP)
    assert "Error displaying widget" not in cell.inner_text()
    widget_screenshots(page, viewer, builder, explorer)  # as a learner first sees them

    # journal viewer: filters narrow the list; a message opens with its body and the bus's answer
    messages = viewer.locator(".widget-select select option")
    expect(messages.first).to_be_visible()
    viewer.locator(".widget-text input").fill("request_shipment")
    dropdowns = viewer.locator(".widget-dropdown select")
    dropdowns.nth(0).select_option("in")
    expect(viewer, "filtering by direction 'in' should leave no shipment request").to_contain_text("0 message(s)", timeout=STEP)
    dropdowns.nth(0).select_option("out")
    dropdowns.nth(1).select_option("failed")
    expect(messages, "one failed shipment request expected").to_have_count(1, timeout=STEP)
    expect(messages.first).to_contain_text("-> wms")
    viewer.locator(".widget-select select").select_option(index=0)
    detail = viewer.locator(".widget-html").last
    expect(detail, "the failed delivery's error is not shown").to_contain_text("the warehouse is closed", timeout=STEP)
    expect(detail.locator("details[open] pre"), "the message body is not open").to_contain_text('"request_id"')
    detail.locator("summary", has_text="response").click()
    expect(detail.locator("details[open] pre").last, "the bus's answer did not open").to_contain_text("-32000")
    # retry: the warehouse is open again, so the delivery gets through
    viewer.get_by_role("button", name="Retry delivery").click()
    expect(viewer, "the retried delivery was not delivered").to_contain_text("sent again: delivered", timeout=STEP)
    expect(detail).to_contain_text("delivered")

    # message builder: a form from the message, problems while typing, an answer, a readable error
    builder.locator(".widget-dropdown select").first.select_option("magento.inventory.source_stock_management.update")
    mode = builder.locator(".widget-text", has_text="snapshot.mode").locator("input")
    expect(mode, "the form has no snapshot.mode field").to_have_value("DELTA", timeout=STEP)
    mode.fill("")
    mode.press_sequentially("delta")
    expect(builder, "typing an invalid mode shows no problem").to_contain_text("Not valid yet", timeout=STEP)
    send = builder.get_by_role("button", name="Send")
    expect(send).to_be_disabled()
    mode.fill("DELTA")
    expect(builder).to_contain_text("Valid: ready to send", timeout=STEP)
    builder.locator(".widget-dropdown select").nth(1).select_option("remote")
    send.click()
    expect(builder, "the synchronous answer is not shown").to_contain_text('"applied"', timeout=STEP)
    source = builder.locator(".widget-text", has_text="snapshot.source_id").locator("input")
    source.fill("NOWHERE")
    send.click()
    expect(builder, "the bus's refusal is not shown as an error box").to_contain_text("The bus refused the message", timeout=STEP)
    expect(builder).to_contain_text("Known sources")
    assert "'code'" not in builder.inner_text(), "the error is shown as a raw dict"

    # stock explorer: stock per source and aggregate, and what each mode would change
    expect(explorer, "the stock tables are missing").to_contain_text("available to sell per aggregate")
    on_hand = explorer.locator("table").first
    expect(on_hand, "WH-EAST's stock is not listed").to_contain_text("SOCK-WOOL")
    explorer.locator(".widget-text input").fill("TEE-ORG")
    expect(on_hand, "the SKU filter did not apply").not_to_contain_text("SOCK-WOOL", timeout=STEP)
    expect(on_hand).to_contain_text("TEE-ORG-S")
    explorer.locator("textarea").fill("TEE-ORG-S,5\nBROWSER-SKU,2")
    preview = explorer.locator(".widget-html", has_text="if sent as")
    expect(preview, "the preview does not list the new SKU").to_contain_text("BROWSER-SKU", timeout=STEP)
    for choice, effect in (("NONZERO", "zeroed (not listed)"), ("FULL", "kept, with a warning")):
        explorer.get_by_role("button", name=choice, exact=True).click()
        expect(preview, f"the {choice} preview is wrong").to_contain_text(f"if sent as {choice}", timeout=STEP)
        expect(preview, f"the {choice} preview does not say what happens to unlisted SKUs").to_contain_text(effect)
    explorer.get_by_role("button", name="DELTA", exact=True).click()
    expect(preview).to_contain_text("if sent as DELTA", timeout=STEP)
    expect(preview, "DELTA leaves unlisted SKUs alone").not_to_contain_text("zeroed")
    expect(preview).not_to_contain_text("warning")
    explorer.get_by_role("button", name="Send snapshot").click()
    expect(explorer, "sending the snapshot showed no answer").to_contain_text('"applied": 2', timeout=STEP)

    widget_screenshots(page, viewer, builder, explorer, suffix="-used")
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"


def test_journal_page_updates_live_escapes_and_works_by_keyboard(start_mock, page):
    mock = start_mock()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{mock.url}/")
    expect(page.locator("#state")).to_contain_text("messages", timeout=STEP)
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    mock.client.call("magento.inventory.source_repository.search", {})
    expect(page.locator("td.method", has_text="magento.inventory.source_repository.search"),
           "a message sent a moment ago did not appear").to_be_visible(timeout=STEP)
    nasty = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    mock.client.send({"jsonrpc": "2.0", "id": 1, "method": nasty, "params": {}})
    expect(page.locator("td.method", has_text=nasty), "a message carrying markup is not shown as text").to_have_count(1, timeout=STEP)
    assert page.evaluate("window.loadedOnce === true"), "the page reloaded to show new messages"
    assert page.locator("#rows script, #rows img").count() == 0 and not dialogs, "a message's text ran as HTML"
    screenshot(page, "journal-page")

    # by keyboard: Tab to the filter, type, Tab to the row's button, Enter opens the message
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-method", "Tab does not reach the method filter first"
    page.keyboard.type("repository")
    expect(page.locator("#rows tr"), "the method filter did not narrow the rows").to_have_count(1, timeout=STEP)
    expect(page.locator("#state")).to_have_text("2 messages, 1 shown")
    for _ in range(4):  # past the two selects to the row's "show" button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    page.keyboard.press("Enter")
    expect(page.locator("button[aria-expanded='true']"), "Enter did not open the message").to_have_count(1)
    expect(page.locator("#rows pre").first, "the opened message shows no body").to_contain_text("source_repository.search")
    screenshot(page, "journal-page-keyboard")
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"


# Whether each time cell of the journal holds its text on one line.
TIMES_ON_ONE_LINE = """() => Array.from(document.querySelectorAll('#rows td.time')).every(td => {
  const range = document.createRange();
  range.selectNodeContents(td);
  return new Set(Array.from(range.getClientRects(), rect => Math.round(rect.top))).size <= 1;
})"""


def test_journal_page_fits_a_1024_px_window(start_mock, page):
    """An opened message stays inside a 1024-px window, times keep to one line, and the page asks for
    nothing the mock does not serve (a favicon.ico, say)."""
    mock = start_mock()
    refused = []
    page.on("response", lambda response: response.status >= 400 and refused.append(f"{response.status} {response.url}"))
    page.set_viewport_size({"width": 1024, "height": 768})
    mock.client.call("magento.sales.order_management.create", order_params("B-1024", ("TEE-ORG-S", "SOCK-WOOL", "BAG-TOTE")))
    mock.client.send(b"{not json")  # rejected: a row with a reason and no method
    page.goto(f"{mock.url}/")
    expect(page.locator("#rows td.method", has_text="order_management.create"), "the order is not listed").to_have_count(1, timeout=STEP)
    expect(page.locator("#rows td.rejected"), "the unreadable message is not listed").to_have_count(1)
    closed = page.locator("#rows button", has_text="show")
    for _ in range(20):  # open every message; a button says "hide" once its message is open
        if not closed.count():
            break
        closed.first.click()
    expect(page.locator("#rows pre"), "the messages did not open").to_have_count(page.locator("#rows tr:not(.detail)").count())
    page.wait_for_load_state("networkidle")  # the favicon, if the page asks for one
    screenshot(page, "journal-page-1024")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, f"the journal page is {width} px wide in a 1024-px window"
    cut = page.evaluate("Array.from(document.querySelectorAll('#rows pre')).filter(pre => pre.scrollWidth > pre.clientWidth).length")
    assert not cut, f"{cut} opened message(s) are cut at the right"
    assert page.evaluate(TIMES_ON_ONE_LINE), "a time wraps onto a second line"
    assert not refused, f"the journal page asked for something the mock does not serve: {refused}"
    assert not our_errors(page), f"browser console errors: {our_errors(page)}"
