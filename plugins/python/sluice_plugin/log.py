"""The broker's log, tagged with the plugin's configured name: ``log.info("...")``.

Inside a component these call the WIT ``log`` import; on a plain CPython (unit tests) they
write to stderr. ``print`` goes nowhere in the broker."""

import sys

try:  # The bindings exist only inside a component built by componentize-py.
    from wit_world.imports import log as _wit_log
except ImportError:  # pragma: no cover - plain CPython
    _wit_log = None


def _emit(level, message):
    if _wit_log is not None:
        _wit_log.log(getattr(_wit_log.Level, level), str(message))
    else:
        print(f"[{level.lower()}] {message}", file=sys.stderr)


def trace(message):
    """Very detailed tracing."""
    _emit("TRACE", message)


def debug(message):
    """Information useful while debugging a plugin."""
    _emit("DEBUG", message)


def info(message):
    """Normal operational messages."""
    _emit("INFO", message)


def warn(message):
    """Something unexpected that the plugin worked around."""
    _emit("WARN", message)


def error(message):
    """Something failed."""
    _emit("ERROR", message)
