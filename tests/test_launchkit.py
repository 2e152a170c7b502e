"""momlab.launchkit's test-plan tools (lab 09): a scenario's checks, its failures, and the plan's summary.
The kit itself runs, on a real mock, in lab 09's notebook (tests/test_course.py)."""

from __future__ import annotations

from momlab.launchkit import PRODUCTION_SECRETS, fingerprint, launch_plan, run_plan, run_scenario, summary


def test_a_scenario_that_raises_is_a_failed_check_with_its_reason():
    def broken(kit, run):
        run.expect("first check", True)
        raise KeyError("order 42")

    run = run_scenario("broken", broken, kit=None)
    assert not run.passed
    assert [c["check"] for c in run.checks] == ["first check", "the scenario ran to the end"]
    assert "KeyError" in run.checks[-1]["evidence"] and "order 42" in run.checks[-1]["evidence"]


def test_an_unwritten_scenario_says_so_and_one_without_checks_fails():
    def unwritten(kit, run):
        raise NotImplementedError()

    assert "not written yet" in run_scenario("todo", unwritten, None).checks[0]["evidence"]
    silent = run_scenario("silent", lambda kit, run: None, None)
    assert not silent.passed and silent.checks[0]["check"] == "the scenario checked something"


def test_summary_gives_each_scenarios_first_failure():
    def good(kit, run):
        run.expect("a", True)

    def bad(kit, run):
        run.expect("a", True)
        run.expect("b", False, "evidence b")
        run.expect("c", False, "evidence c")

    table = summary(run_plan({"good": good, "bad": bad}, None)).set_index("scenario")
    assert bool(table.loc["good", "passed"]) and table.loc["good", "first failure"] == ""
    assert not table.loc["bad", "passed"] and table.loc["bad", "first failure"] == "b: evidence b"


def test_the_plan_holds_fingerprints_never_secrets():
    plan = launch_plan()
    assert set(plan["remotes"]) == {"mdc", "wms", "psp"}
    for remote, secret in PRODUCTION_SECRETS.items():
        assert plan["secret_fingerprints"][remote] == fingerprint(secret) != secret
        assert secret not in repr(plan)
    assert fingerprint("") is None and len(fingerprint("x")) == 12
