"""gunicorn settings: ``gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:8001 wsgi:app``.

Each app server is one gunicorn on its own loopback port (see
``systemd/hybriddesk-web@.service``), behind nginx (``nginx/hybriddesk.conf``).
"""

import os

#: Worker processes per app server; each serves one request at a time.
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# The slowest page (a sheet of 1,000 badges) takes seconds; a worker stuck for a
# minute is restarted.
timeout = 60
graceful_timeout = 30
# nginx holds the slow clients and opens a new connection per request.
keepalive = 2
# Recycle workers now and then, so that no long-lived one grows without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
# Several app servers share a host; none needs gunicorn's control socket, whose
# default path would be the same for all of them.
control_socket_disable = True
