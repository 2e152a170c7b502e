"""JupyterHub for a momlab class on one machine (README, "A class on JupyterHub").

Every learner and instructor is a system user of this machine: they log in with their own password
(PAM), and their JupyterLab runs as them, in their own home. That is what makes nbgrader's exchange
safe: its folders' permissions only separate learners who are different users. Run it as root, from the
hub's state folder (it keeps its database and cookie secret there):

    cd /srv/jupyterhub && /opt/momlab/venv/bin/jupyterhub -f /opt/momlab/hub/jupyterhub_config.py

tests/test_jupyterhub.py runs this file as it is, with its own ports, folders and a service token added.
"""

import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub)
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the venv the hub runs from: every user's server runs from it too

# Who may log in: system users in these groups (useradd -G momlab-learners ...), with their system password.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {"momlab-learners", "momlab-instructors"}

# Each user's JupyterLab runs as that user, in their home (which must be theirs alone: mode 0700).
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# The course's Jupyter settings for everyone (nbgrader's course and exchange; no instructor tools in the
# learners' JupyterLab), read before those of the venv.
c.Spawner.environment = {"JUPYTER_CONFIG_PATH": str(HERE / "jupyter")}

# The proxy in front: configurable-http-proxy from npm (`npm ci --prefix <this folder>`), or one on PATH.
_proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [str(_proxy) if _proxy.exists() else shutil.which("configurable-http-proxy") or "configurable-http-proxy"]

# Where learners reach it. Put TLS in front (c.JupyterHub.ssl_cert / ssl_key, or a reverse proxy) before
# opening it beyond this machine: passwords go through it.
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
