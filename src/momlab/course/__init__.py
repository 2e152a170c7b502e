"""The course's own tooling: test-cell helpers (grading), the practice exam, objectives, `momlab progress` and
the classroom (nbgrader with a sandbox). It uses the learner library and the bus; neither uses it."""
