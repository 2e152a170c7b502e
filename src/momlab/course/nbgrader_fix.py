"""Two speed fixes to nbgrader 0.9.6, applied wherever momlab drives nbgrader (and by the course's
nbgrader_config.py). Neither changes what nbgrader decides.

1. nbgrader stamps every new gradebook with the alembic revision of its schema, and finds that revision by
   running `alembic heads` in a new process: about 2.5 CPU-seconds (a Python start and the imports) for each
   gradebook it creates: every `generate_assignment` into a new course folder, every template gradebook
   momlab makes to grade a lab. The revision is a constant of the installed nbgrader, so here it is read
   once per process, in-process, from nbgrader's own migration scripts with alembic's Python API (~0.25 s).
2. nbgrader checks each cell's nbgrader metadata with `jsonschema.validate`, which first checks the schema
   itself against its meta-schema: on every cell, three times per notebook graded (~2 ms a cell, ~0.15
   CPU-s for a lab's notebook). Here the schema is checked once, and each cell gets the same verdict and
   the same error (jsonschema's best match) as before.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def alembic_head() -> str:
    """The newest revision of nbgrader's gradebook schema: what `alembic heads` prints first."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head())


class CheckedSchemas:
    """Stands in for the jsonschema module in nbgrader's metadata check: `validate` as jsonschema's, with
    each schema checked and its validator built once."""

    def __init__(self):
        # id(schema) -> (schema, its validator): keeping the schema alive keeps its id from being reused
        self._validators: dict[int, tuple] = {}

    def validate(self, instance, schema) -> None:
        import jsonschema

        if id(schema) not in self._validators:
            cls = jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[id(schema)] = (schema, cls(schema))
        error = jsonschema.exceptions.best_match(self._validators[id(schema)][1].iter_errors(instance))
        if error is not None:
            raise error


def apply() -> None:
    """Make nbgrader read the revision with alembic_head, and check metadata with CheckedSchemas (idempotent)."""
    import nbgrader.api
    import nbgrader.nbgraderformat.common

    nbgrader.api.get_alembic_version = alembic_head
    if not isinstance(nbgrader.nbgraderformat.common.jsonschema, CheckedSchemas):
        nbgrader.nbgraderformat.common.jsonschema = CheckedSchemas()
