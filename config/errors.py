"""handler500: an error no view answered, by its class (core.errors). Under /api/ the API's problem
details (api.exceptions), elsewhere the public pages' friendly HTML page (core.error_pages).

Django calls it inside its except block, so the exception is sys.exc_info()'s; it logs the error itself
(django.request, with the traceback and the request id) after this answer is built.
"""

import sys

from api.exceptions import uncaught_error_problem
from core.error_pages import server_error_page

API_PREFIX = "/api/"


def server_error(request):
    exc = sys.exc_info()[1]
    if request.path_info.startswith(API_PREFIX):
        return uncaught_error_problem(exc)
    return server_error_page(request, exc)
