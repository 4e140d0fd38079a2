"""gunicorn settings for the container, read from the same environment as Django's settings.

PORT and WEB_CONCURRENCY set the address and the number of worker processes; any other gunicorn
option can be added through GUNICORN_CMD_ARGS (for example "--threads 8").
"""

import os

bind = [f"0.0.0.0:{os.environ.get('PORT') or 8000}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
# Threads let one process keep serving pages while another thread streams a large clip upload.
worker_class = "gthread"
threads = 4
timeout = 120
graceful_timeout = 30
# Request logs to stdout, where `docker compose logs` reads them.
accesslog = "-"
errorlog = "-"
# The heartbeat files of gunicorn's workers live in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
