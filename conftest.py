"""Collection settings for the doctests of the package (``--doctest-modules``).

Dask is an optional extra: without it, the modules that need it are not
imported for their doctests (their tests skip themselves).
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("dask") is None:
    collect_ignore += ["skgen/mixture/_dask.py", "skgen/mixture/_dask_tables.py"]
