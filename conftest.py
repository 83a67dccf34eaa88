"""Collection settings for the doctests of the package (``--doctest-modules``).

Dask is an optional extra: without it, the module that needs it is not
imported for its doctests (its tests skip themselves).
"""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("dask") is None:
    collect_ignore.append("skgen/mixture/_dask.py")
