"""Sphinx configuration for the skgen documentation.

The build must work offline: no intersphinx, nothing fetched at build time.
skgen itself must be importable (``pip install -e ".[doc]"``).
"""

import os
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

# Render gallery figures without a display.
os.environ.setdefault("MPLBACKEND", "Agg")

import skgen  # noqa: E402

# -- Project information ----------------------------------------------------

project = "skgen"
author = "The skgen developers"
copyright = "The skgen developers"
try:
    release = _dist_version("skgen")
except PackageNotFoundError:  # imported from a source tree, not installed
    release = skgen.__version__
version = release

# -- General configuration --------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"
nitpicky = False

# autosummary writes one page per listed object into ``generated/``.
autosummary_generate = True

# numpydoc: autosummary already lists the members, so do not let numpydoc emit a
# second member table (it would create duplicate targets and warnings).
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- sphinx-gallery ---------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    # "Examples using ..." mini-galleries on the API pages (see the class
    # template in _templates/autosummary/class.rst).
    "doc_module": ("skgen",),
    "backreferences_dir": os.path.join("generated", "backreferences"),
    # Link names in example code to the local API pages only; no remote
    # documentation is contacted.
    "reference_url": {"skgen": None},
    "show_memory": False,
    "plot_gallery": "True",
}

# -- HTML output ------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skgen {version}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"install": [], "index": []}
html_show_sourcelink = False


# -- Hooks ------------------------------------------------------------------


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave scikit-learn's generated ``set_*_request`` methods out of the API pages.

    scikit-learn adds them to every estimator whose methods take metadata such as
    ``sample_weight``; their docstrings point into scikit-learn's own
    documentation (glossary, user guide), which cannot be resolved here.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
