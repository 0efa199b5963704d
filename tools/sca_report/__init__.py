"""The drawing side of `sca report` and `sca compare`, one module per idea:

runs          what a report reads from run directories
output        PNG and page writing (atomic)
run_figures   the figures of one run
sweep_figures the figures of many runs and of a search's configs
html_page     the self-contained HTML page

Importing the package checks its third-party dependencies once, so a missing
one is a single line naming what to install rather than a traceback.
"""
import sys

try:
    import numpy  # noqa: F401
    import matplotlib
    import yaml  # noqa: F401

    matplotlib.use("Agg")
except ImportError as e:
    sys.exit(f"error: sca report needs numpy, matplotlib and PyYAML in {sys.executable} ({e.name} is missing): "
             "install python3-numpy python3-matplotlib python3-yaml (Debian), or pass sca report --python PYTHON")
