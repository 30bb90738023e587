"""Sphinx configuration of the documentation site (``make docs``).

Offline by design: no intersphinx inventories are fetched, so references to Airflow's, Python's
and other libraries' objects are shown as plain names (``nitpick_ignore_regex`` below), and only
this package's own references must resolve. The tables and the CLI reference are generated from
the code when the build starts (``_ext/plusofon_docs.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS.parent), str(DOCS / "_ext")]

# Autodoc imports the package, and so Airflow: give it a throwaway home before anything imports it.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="plusofon-docs-airflow-home-")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from airflow_provider_plusofon import __version__  # noqa: E402

project = "airflow-provider-plusofon"
author = "airflow-provider-plusofon contributors"
copyright = "the airflow-provider-plusofon contributors, Apache License 2.0"
version = release = __version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "plusofon_docs"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "snippets", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist", "tasklist"]
myst_heading_anchors = 3
# Messages are quoted as the code prints them: no typographic quotes or dashes.
smartquotes = False

nitpicky = True
# Names outside this package: without intersphinx (offline) they cannot resolve, so they are
# shown as written rather than linked.
nitpick_ignore_regex = [
    (r"py:.*", r"(airflow|requests|httpx|pendulum|jinja2|urllib3|asyncio|concurrent|collections|typing)\b.*"),
    (r"py:.*", r"(datetime|pathlib|argparse|threading|types|enum|contextlib|logging|socket)\b.*"),
    (r"py:.*", r"(Context|Path|Mapping|Sequence|Iterator|AsyncIterator|Callable|Any|Iterable|TriggerEvent)"),
    (r"py:.*", r"(BaseOperator|BaseSensorOperator|BaseHook|BaseTrigger|BaseEventTrigger|Connection)"),
    (r"py:.*", r"(urllib|_pytest|pytest)\b.*|Asset|Logger|PokeReturnValue|SplitResult|Reread"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_typehints_format = "short"
autodoc_default_options: dict[str, object] = {}

html_theme = "furo"
html_title = f"airflow-provider-plusofon {release}"
html_static_path = ["_static"]
html_show_sourcelink = False
html_copy_source = False
