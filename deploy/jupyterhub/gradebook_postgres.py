
# --- The gradebook in PostgreSQL (deploy/jupyterhub/gradebook_postgres.py, appended to the course's settings) ---
# Database momlab_gradebook on this machine's server, reached through its Unix socket as the instructor's
# own system user (peer authentication: no password anywhere). Without this line it is gradebook.db.
c.CourseDirectory.db_url = "postgresql+psycopg:///momlab_gradebook"
