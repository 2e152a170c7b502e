
# --- On the course's JupyterHub (deploy/jupyterhub/course_config.py, appended to the course's settings) ---
# The course id again (as in the hub's jupyter/nbgrader_config.py): `momlab class` reads only this file, and
# a PostgreSQL gradebook refuses an assignment without a course (SQLite lets it pass).
c.CourseDirectory.course_id = "momlab"
# Collecting takes a submission only from the learner it names, and never follows a link in it.
c.ExchangeFactory.collect = "momlab.course.classroom.exchange.OwnCollect"
