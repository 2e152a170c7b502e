"""The process pools that run notebooks (momlab.course.pools)."""

from __future__ import annotations

import gc

from momlab.course import pools


def test_a_pool_worker_keeps_what_the_server_imported_out_of_the_collectors_sight():
    with pools.pool(1) as pool:
        frozen = pool.submit(gc.get_freeze_count).result(timeout=120)
    # nbgrader, nbclient, nbformat and momlab's grading modules: a full collection would walk them all
    assert frozen > 10_000, frozen
