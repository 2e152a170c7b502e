"""nbgrader settings for everyone on the course's JupyterHub, learners and instructors alike (the hub
puts this folder first on JUPYTER_CONFIG_PATH): which course, and where its exchange is."""

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "momlab"
# A folder every user can write in, with the sticky bit (mode 1777: nobody can rename or delete what
# another user put there). The instructor's first `nbgrader release_assignment` creates momlab/ in it:
# outbound/ (readable by all), inbound/ (learners can write, not list) and feedback/ (no listing either).
c.Exchange.root = "/srv/nbgrader/exchange"
