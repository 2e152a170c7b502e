"""Three speed fixes to nbgrader 0.9.6 and the nbformat it runs on, applied wherever momlab drives nbgrader
(and by the course's nbgrader_config.py). None changes what nbgrader decides.

1. nbgrader stamps every new gradebook with the alembic revision of its schema, and finds that revision by
   running `alembic heads` in a new process: about 2.5 CPU-seconds (a Python start and the imports) for each
   gradebook it creates: every `generate_assignment` into a new course folder, every template gradebook
   momlab makes to grade a lab. The revision is a constant of the installed nbgrader, so here it is read
   once per process, in-process, from nbgrader's own migration scripts with alembic's Python API (~0.25 s).
2. nbgrader checks each cell's nbgrader metadata with `jsonschema.validate`, which first checks the schema
   itself against its meta-schema: on every cell, three times per notebook graded (~2 ms a cell, ~0.15
   CPU-s for a lab's notebook). Here the schema is checked once, and each cell gets the same verdict and
   the same error (jsonschema's best match) as before.
3. nbclient checks every output a kernel sends against its part of the notebook schema (nbformat's
   `validate(output, ref=...)`), and nbformat answers a check by part with jsonschema, never its compiled
   fastjsonschema (~0.2 ms an output, ~0.03 CPU-s a notebook). Here each part is compiled once with
   fastjsonschema: an output it accepts is valid; anything else goes to nbformat's own check, which
   decides and words the error as before.
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


class CompiledParts:
    """Stands in for nbformat.v4's `validate(node, ref=None)`: a part of the schema (`ref`) is checked with
    fastjsonschema, compiled once; whatever that check does not accept goes to nbformat's own `validate`."""

    def __init__(self, validate):
        import fastjsonschema

        self.validate = validate  # nbformat's, which decides every case the fast check does not accept
        self._refused = fastjsonschema.JsonSchemaException
        self._checks: dict[str, object] = {}

    def __call__(self, node, ref=None):
        if ref:
            try:
                self._check(ref)(node)
                return None
            except self._refused:
                pass
        return self.validate(node, ref=ref)

    def _check(self, ref: str):
        if ref not in self._checks:
            import fastjsonschema
            from nbformat.validator import get_validator

            schema = get_validator(4, name="jsonschema")._schema  # what nbformat's own check by part uses
            part = {"$schema": schema["$schema"], "definitions": schema["definitions"], "$ref": f"#/definitions/{ref}"}
            self._checks[ref] = fastjsonschema.compile(part)
        return self._checks[ref]


def apply() -> None:
    """Make nbgrader read the revision with alembic_head, check metadata with CheckedSchemas, and nbformat
    check outputs with CompiledParts (idempotent)."""
    import nbformat.v4.nbbase
    import nbgrader.api
    import nbgrader.nbgraderformat.common

    nbgrader.api.get_alembic_version = alembic_head
    if not isinstance(nbgrader.nbgraderformat.common.jsonschema, CheckedSchemas):
        nbgrader.nbgraderformat.common.jsonschema = CheckedSchemas()
    if not isinstance(nbformat.v4.nbbase.validate, CompiledParts):
        nbformat.v4.nbbase.validate = CompiledParts(nbformat.v4.nbbase.validate)
