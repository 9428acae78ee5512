"""The WSGI entry point a web server loads."""

import gc
import importlib


def test_the_wsgi_application_loads_and_keeps_start_up_objects_out_of_the_collectors_passes():
    from config import wsgi

    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    importlib.reload(wsgi)
    assert callable(wsgi.application)
    assert gc.get_freeze_count() > 0  # config/wsgi.py froze what start-up built
