"""The answer sheet (solutions/answer-sheet/, released to notebooks/answer-sheet/): every prompt of the
exam guide answered, with one confidence tag and the lab that shows it; the message map built from the
mock's catalog (momlab.message_map); and a folder with no graded cell handled by the course's tools."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from momlab import message_map
from momlab.bus import catalog
from momlab.course import objectives, progress
from momlab.course.classroom.course import Course
from momlab.course.errors import UserError
from tests.support.nbgrader import run_nbgrader
from tests.support.paths import ROOT

SHEET = "answer-sheet"
SOURCE = ROOT / "solutions" / SHEET / f"{SHEET}.ipynb"
RELEASE = ROOT / "notebooks" / SHEET / f"{SHEET}.ipynb"
OBJECTIVES_FILE = ROOT / "tests" / "data" / "EXAM_OBJECTIVES.md"
TAGS = ("[doc]", "[code]", "[mock]", "[inferred]", "[unverified]")
ANY_TAG = re.compile(r"\[(?:doc|code|mock|inferred|unverified)\]")
REFERENCE = re.compile(r"^`(?P<folder>[^`]+)`\s+(?:(?P<notebook>[0-9a-z]+)\s+)?§\s*(?P<section>.+)$")
MAX_WORDS = 300  # per markdown cell
MAX_ANSWER_WORDS = 80  # "a sentence or two"


def normal(text: str) -> str:
    """Text compared without markdown emphasis, code marks or extra spaces."""
    return " ".join(text.replace("`", "").strip().strip("*").split())


def exam_guide() -> tuple[dict[str, str], dict[str, list[str]]]:
    """The objectives file: objective id -> its text, and objective id -> its prompts (the #### lines)."""
    texts: dict[str, str] = {}
    prompts: dict[str, list[str]] = {}
    current = None
    for line in OBJECTIVES_FILE.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^###\s+\*\*(\d\.\d)\*\*\s+(.+)$", line):
            current = match.group(1)
            texts[current], prompts[current] = normal(match.group(2)), []
        elif (match := re.match(r"^####\s+\*\*(.+)\*\*\s*$", line)) and current:
            prompts[current].append(normal(match.group(1)))
    return texts, prompts


def rows(path: Path = SOURCE) -> list[dict[str, str]]:
    """The sheet's answer rows: every markdown table row whose first column is an objective id."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            columns = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
            if len(columns) == 5 and re.fullmatch(r"\d\.\d", columns[0]):
                found.append(dict(zip(("objective", "prompt", "answer", "confidence", "shown_in"), columns, strict=True)))
    return found


def headings(notebook: Path) -> list[str]:
    cells = nbformat.read(notebook, as_version=4).cells
    return [line.lstrip("#").strip() for cell in cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")]


def test_the_sheet_lists_every_prompt_and_every_objective_without_prompts():
    texts, prompts = exam_guide()
    assert len(texts) == 35 and sum(map(len, prompts.values())) >= 30, "the objectives file could not be parsed"
    listed = {(row["objective"], normal(row["prompt"])) for row in rows()}
    wanted = {(objective, prompt) for objective, found in prompts.items() for prompt in found}
    wanted |= {(objective, texts[objective]) for objective, found in prompts.items() if not found}
    missing = sorted(wanted - listed)
    assert not missing, "the answer sheet does not answer these prompts of EXAM_OBJECTIVES.md (objective, prompt):\n" + \
        "\n".join(f"  {objective} {prompt!r}" for objective, prompt in missing)


def test_every_listed_prompt_is_quoted_exactly_under_its_objective():
    texts, prompts = exam_guide()
    for row in rows():
        objective, prompt = row["objective"], normal(row["prompt"])
        allowed = [*prompts.get(objective, []), texts.get(objective, "")]
        near = difflib.get_close_matches(prompt, [p for found in prompts.values() for p in found] + list(texts.values()), n=1)
        assert prompt in allowed, (f"{objective} {prompt!r} is neither a prompt nor the objective {objective} of "
                                   f"EXAM_OBJECTIVES.md (misspelt, or under the wrong id?); closest: {near}")
        is_objective = prompt == texts[objective]
        italic = row["prompt"].startswith("*") and row["prompt"].endswith("*")
        assert italic == is_objective, f"{objective} {prompt!r}: objectives are quoted in italics, prompts are not"


def test_every_answer_carries_exactly_one_confidence_tag():
    for row in rows():
        where = f"{row['objective']} {row['prompt'][:60]!r}"
        assert row["confidence"] in TAGS, f"{where}: the confidence is {row['confidence']!r}, not one of {', '.join(TAGS)}"
        assert not ANY_TAG.search(row["answer"]), f"{where}: a tag inside the answer; say the weaker part in words"
        words = len(row["answer"].split())
        assert 5 <= words <= MAX_ANSWER_WORDS, f"{where}: the answer has {words} words; a sentence or two"


def test_every_answer_names_a_lab_folder_and_a_section_of_it():
    labs = Course.at(ROOT).labs()
    for row in rows():
        where = f"{row['objective']} {row['prompt'][:60]!r}"
        references = [part.strip() for part in row["shown_in"].split(";")]
        assert references and all(references), f"{where}: no lab named in 'Shown in'"
        for reference in references:
            match = REFERENCE.match(reference)
            assert match, f"{where}: {reference!r} should read `<lab folder>` [notebook] §<section>"
            folder, notebook, section = match["folder"], match["notebook"], match["section"].strip()
            assert folder in labs, f"{where}: {folder!r} is not a lab folder of solutions/ (labs: {', '.join(labs)})"
            assert (ROOT / "notebooks" / folder).is_dir(), f"{where}: notebooks/{folder} is missing"
            notebooks = sorted((ROOT / "solutions" / folder).glob(f"{notebook or ''}*.ipynb"))
            assert notebooks, f"{where}: no notebook {notebook!r} in {folder}"
            if re.fullmatch(r"\d\.\d", section):
                found = re.compile(rf"(?<![\d.]){re.escape(section)}(?![\d])")
            else:
                found = re.compile(re.escape(section), re.IGNORECASE)
            titles = [title for nb in notebooks for title in headings(nb)]
            assert any(found.search(title) for title in titles), \
                f"{where}: no heading of {folder} {notebook or ''} names §{section}; its headings: {titles}"


def test_the_sheet_reads_in_short_cells_and_says_the_exam_is_past_its_support():
    nb = nbformat.read(SOURCE, as_version=4)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            assert len(cell.source.split()) <= MAX_WORDS, f"markdown cell {number} has over {MAX_WORDS} words: split it"
        else:
            assert len(cell.source.splitlines()) <= 25, f"code cell {number} is over 25 lines"
    text = "\n".join(cell.source for cell in nb.cells)
    assert "MOM reached end of support in October 2024 [doc]" in text
    assert "message_map.styled()" in text, "the message table must be built from the catalog in a code cell"


def test_the_sheet_has_no_graded_cell_and_trains_no_objective():
    nb = nbformat.read(SOURCE, as_version=4)
    assert not any("nbgrader" in cell.metadata for cell in nb.cells)
    assert not progress.has_exercises(SOURCE) and not progress.has_exercises(RELEASE)
    assert objectives.for_notebook(nb) == {}


# ---------------------------------------------------------------- the message map

REQUIRED_COLUMNS = {"topic", "direction", "delivery", "sender", "receiver", "what it is for", "confidence"}


def test_the_message_table_has_one_row_per_catalog_message():
    table = message_map.table()
    assert REQUIRED_COLUMNS <= set(table.columns)
    assert list(table["topic"]) == catalog.names()
    assert set(table["direction"]) <= {"to MOM", "from MOM"}
    assert set(table["delivery"]) <= set(catalog.DELIVERIES)
    assert set(table["confidence"]) <= set(TAGS)
    assert (table[list(REQUIRED_COLUMNS)] != "").all().all()
    create = table.set_index("topic").loc["magento.sales.order_management.create"]
    message = catalog.get("magento.sales.order_management.create")
    assert (create["direction"], create["delivery"], create["sender"], create["what it is for"]) == (
        "to MOM", message.delivery, message.sender, message.summary)


def test_one_objectives_messages():
    rows_42 = message_map.for_objective("4.2")
    assert set(rows_42["topic"]) == {m.method for m in catalog.all() if "4.2" in m.objectives}
    assert "magento.logistics.warehouse_management.lines_shipped" in set(rows_42["topic"])
    assert message_map.for_objective("9.9").empty


def test_the_styled_table_shows_every_topic_whole_and_escapes_text():
    page = message_map.styled().to_html()
    shown = page.replace("<wbr>", "")
    assert all(name in shown for name in catalog.names())
    assert "<wbr>" in page
    assert "&quot;shipping&quot;" in page or "&#34;shipping&#34;" in page  # a summary's quotes, escaped


# ---------------------------------------------------------------- a folder with no graded cell

def test_the_course_tools_leave_reading_material_out():
    course = Course.at(ROOT)
    assert SHEET not in course.labs() and "01-mom-api" in course.labs()
    with pytest.raises(UserError, match="no graded cell"):
        course.check_lab(SHEET)
    with pytest.raises(UserError, match="no lab 'nowhere'"):
        course.check_lab("nowhere")
    assert progress.has_exercises(ROOT / "solutions" / "01-mom-api" / "01-mom-api.ipynb")


def test_progress_does_not_run_the_sheet(tmp_path):
    shutil.copytree(ROOT / "notebooks" / SHEET, tmp_path / "notebooks" / SHEET)
    result = progress.run(tmp_path / "notebooks", workers=1)
    assert result.outcomes == [] and result.problems == []
    (tmp_path / "broken.ipynb").write_text("not a notebook")
    assert progress.has_exercises(tmp_path / "broken.ipynb")  # an unreadable file is still run, to be reported
    (tmp_path / "list.ipynb").write_text(json.dumps([1, 2]))
    assert progress.has_exercises(tmp_path / "list.ipynb")


@pytest.mark.slow
def test_release_is_what_nbgrader_generates(tmp_path):
    """tests/test_course.py skips the sheet (nothing to grade); its release is checked here."""
    shutil.copytree(ROOT / "solutions" / SHEET, tmp_path / "solutions" / SHEET)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    done = run_nbgrader(tmp_path, "generate_assignment", SHEET, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    fresh = json.loads((tmp_path / "notebooks" / SHEET / f"{SHEET}.ipynb").read_text())
    assert json.loads(RELEASE.read_text()) == fresh, f"notebooks/{SHEET} differs from solutions/: run `make release`"


@pytest.mark.slow
def test_release_runs_and_shows_the_map():
    from nbclient import NotebookClient

    nb = nbformat.read(RELEASE, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(RELEASE.parent)}}).execute()
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert any("image/svg+xml" in o.get("data", {}) or "<svg" in o.get("data", {}).get("text/html", "") for o in outputs)
    tables = [o["data"]["text/html"].replace("<wbr>", "") for o in outputs if "text/html" in o.get("data", {})]
    assert any(all(name in table for name in catalog.names()) for table in tables), "the full message table is not shown"
