"""Property-based fuzzing of the bus, short and derandomized (bench/fuzz.py sends 10,000+ cases).

Whatever arrives, the answer is never a 5xx and is always a conforming JSON-RPC 2.0 response: an
error object has an int code in the allowed ranges, a message and a data.path, and result and error
are never both present (the rule is fuzz_cases.check). The cases come from envelopes built member
by member, from each catalog message's params_schema, and from each message's example with one
thing broken (tests/support/fuzz_cases.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from momlab.bus import catalog
from tests.support import fuzz_cases as fc
from tests.support import load as lt
from tests.support.servers import StandaloneServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bus(tmp_path_factory):
    server = StandaloneServer(db=tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite")
    try:
        yield server.url, lt.token(server.url)
    finally:
        server.stop()


def _run(bus, strategy, examples: int) -> dict:
    url, bearer = bus
    seen = fc.run(url, bearer, examples, derandomize=True, stop_at_first=True, strategy=strategy)
    assert seen["cases"] >= examples * 0.9  # hypothesis really generated (nearly) that many
    return seen


@settings(max_examples=120, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(fc.MESSAGES).flatmap(lambda method: st.tuples(st.just(method), fc.params_of(method))))
def test_the_schema_generator_makes_params_the_catalog_accepts(drawn):
    method, params = drawn
    assert catalog.validate(method, params) == []


def test_the_generator_knows_every_catalog_schema():
    for method in fc.MESSAGES:
        fc.params_of(method)  # raises on a JSON Schema keyword it cannot honour
    assert len(fc.MESSAGES) == len(catalog.names()) > 20


def test_fuzzed_envelopes_get_conforming_answers(bus):
    seen = _run(bus, fc.envelopes(), 150)
    assert {400, 404} <= set(seen["statuses"])  # refusals of several kinds were really provoked


def test_params_from_every_schema_get_conforming_answers(bus):
    seen = _run(bus, fc.from_catalog(), 150)
    assert seen["statuses"].get(200, 0) > 10  # valid params got through to the flows


def test_broken_examples_get_conforming_answers(bus):
    seen = _run(bus, fc.mutants(), 150)
    assert seen["statuses"].get(422, 0) > 10  # schema failures were reached, not just envelope errors
