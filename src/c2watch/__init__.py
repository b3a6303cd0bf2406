"""c2watch: cooperative liveness monitoring of C2 destinations distributed by CERTs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("c2watch")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
