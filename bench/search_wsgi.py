"""WSGI entry point for the browser benchmark: juki's application plus its static files.

gunicorn does not serve static files and juki has no static route (DEBUG is off even in
juki.conf.dev), but the counter page needs htmx and ui.js. This wraps the application in
Django's own StaticFilesHandler (what `runserver --insecure` uses), which serves /static/ from
the app directories' finders and passes every other request to juki unchanged. It also adds a
`Server-Timing: app;dur=<ms>` header (time inside Django, up to the response being built), which
the browser exposes in Resource Timing, so the benchmark can split server time from the rest.
Benchmark only.

    gunicorn --pythonpath bench search_wsgi:application
"""
import time

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

_django = StaticFilesHandler(get_wsgi_application())


def application(environ, start_response):
    t0 = time.perf_counter()
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["args"] = (status, headers, exc_info)
        return lambda data: None  # Django never uses write()

    body = _django(environ, capture)
    status, headers, exc_info = captured["args"]
    headers = list(headers) + [("Server-Timing", f"app;dur={(time.perf_counter() - t0) * 1000:.2f}")]
    start_response(status, headers, exc_info)
    return body
