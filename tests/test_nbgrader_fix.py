"""The gradebook schema revision momlab reads in-process is the one `alembic heads` gives, and a new gradebook
carries it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from momlab.course import nbgrader_fix


def test_the_revision_is_what_alembic_heads_prints(tmp_path):
    import nbgrader

    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {Path(nbgrader.__file__).parent / 'alembic'}\nsqlalchemy.url = sqlite:///{tmp_path / 'x.db'}\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    printed = subprocess.run(["alembic", "-c", str(ini), "heads"], capture_output=True, text=True, check=True, env=env).stdout
    assert nbgrader_fix.alembic_head() == printed.split()[0]


def test_a_new_gradebook_is_stamped_with_it(tmp_path):
    from nbgrader.api import Gradebook
    from sqlalchemy import text

    nbgrader_fix.apply()
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        stamped = gradebook.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == nbgrader_fix.alembic_head()


def test_metadata_checks_give_the_same_verdicts_and_errors_as_jsonschema():
    import jsonschema
    import pytest
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    schema = MetadataValidatorV3().schema
    good = {"schema_version": 3, "grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "ex1_tests"}
    bad = [{**good, "points": "two"}, {**good, "points": -1}, {**good, "grade": "yes"}, {**good, "grade_id": "ex 1!"},
           {k: v for k, v in good.items() if k != "locked"}, {**good, "task": 1}, {**good, "checksum": "short"}]
    checked = nbgrader_fix.CheckedSchemas()
    checked.validate(good, schema)
    jsonschema.validate(good, schema)
    for metadata in bad:
        with pytest.raises(jsonschema.ValidationError) as theirs:
            jsonschema.validate(metadata, schema)
        with pytest.raises(jsonschema.ValidationError) as ours:
            checked.validate(metadata, schema)
        assert (ours.value.message, list(ours.value.path)) == (theirs.value.message, list(theirs.value.path))


def test_nbgrader_still_refuses_metadata_a_learner_broke():
    import pytest
    from jsonschema import ValidationError
    from nbformat.v4 import new_code_cell
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    nbgrader_fix.apply()
    cell = new_code_cell("x = 1", metadata={"nbgrader": {"schema_version": 3, "grade": True, "solution": False, "locked": True,
                                                          "points": -5, "grade_id": "ex1_tests"}})
    with pytest.raises(ValidationError):
        MetadataValidatorV3().validate_cell(cell)


def test_output_checks_give_nbformats_verdicts_and_errors():
    import pytest
    from nbformat import ValidationError
    from nbformat.v4 import nbbase

    original = nbbase.validate.validate if isinstance(nbbase.validate, nbgrader_fix.CompiledParts) else nbbase.validate
    compiled = nbgrader_fix.CompiledParts(original)
    good = [({"output_type": "stream", "name": "stdout", "text": "hi\n"}, "stream"),
            ({"output_type": "display_data", "data": {"text/plain": "x", "image/png": "iVBO"}, "metadata": {}}, "display_data"),
            ({"output_type": "execute_result", "data": {"text/html": ["<b>", "x</b>"]}, "metadata": {}, "execution_count": 3}, "execute_result"),
            ({"output_type": "error", "ename": "ValueError", "evalue": "no", "traceback": ["line"]}, "error"),
            ({"cell_type": "markdown", "id": "a1", "metadata": {}, "source": "# hi"}, "markdown_cell")]
    bad = [({"output_type": "stream", "text": "no name\n"}, "stream"),
           ({"output_type": "stream", "name": "stdout", "text": "x", "extra": 1}, "stream"),
           ({"output_type": "display_data", "data": "not a bundle", "metadata": {}}, "display_data"),
           ({"output_type": "execute_result", "data": {}, "metadata": {}, "execution_count": "three"}, "execute_result"),
           ({"output_type": "error", "ename": "ValueError", "evalue": "no"}, "error"),
           ({"output_type": "stream", "name": "stdout", "text": "x"}, "error")]
    for node, ref in good:
        assert compiled(node, ref=ref) is None and original(node, ref=ref) is None
    for node, ref in bad:
        with pytest.raises(ValidationError) as theirs:
            original(node, ref=ref)
        with pytest.raises(ValidationError) as ours:
            compiled(node, ref=ref)
        assert ours.value.message == theirs.value.message, node


def test_nbclient_still_builds_outputs_through_the_output_check():
    from nbformat.v4 import nbbase, output_from_msg

    nbgrader_fix.apply()
    assert isinstance(nbbase.validate, nbgrader_fix.CompiledParts)
    msg = {"header": {"msg_type": "stream"}, "content": {"name": "stdout", "text": "hello\n"}}
    assert output_from_msg(msg) == {"output_type": "stream", "name": "stdout", "text": "hello\n"}
