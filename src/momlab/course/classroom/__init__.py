"""Grading a class with nbgrader, one command per step (`momlab class collect|autograde|feedback|export|report`).

- course: the course folder, its nbgrader config and what learners handed in
- collect: submissions from submitted/ or from an LMS download (nbgrader zip_collect)
- autograde: every submission graded three per core at a time, each in its own throw-away course and gradebook
- merge: one grading's results copied into the course gradebook (only the parent process writes it)
- feedback: nbgrader's feedback pages, checked for hidden-test source
- export: grades.csv
- report: one self-contained HTML page on how the class did
"""

from momlab.bus.catalog import load_jsonschema

load_jsonschema()  # before nbformat imports jsonschema: ~1 CPU-s less in every grading process (see its docstring)
