"""gtwatch: watch Amazon SageMaker jobs (training, processing, transform, tuning, pipelines, labeling) and notify.

`__version__` is the installed distribution's version; pyproject.toml is its one source (the CLI's --version and
anything else that shows the version read it here)."""

from importlib import metadata

try:
    __version__ = metadata.version("gtwatch")
except metadata.PackageNotFoundError:  # Run from a checkout that was never installed (pip install -e .).
    __version__ = "0+unknown"
