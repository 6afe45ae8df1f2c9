"""Sluice plugin SDK for Python: write a router or a claim policy as a plain class, build it
with ``componentize-py`` into a WebAssembly component the broker loads like a Rust one.

The friendly view mirrors the Rust SDK (``plugins/sdk``):

- routers: :class:`Router` (``init(config)``, ``route(event, out)``), :class:`Event`,
  :class:`Outputs` (``forward``, ``emit(...).field(...)``), :class:`Fail`;
- claim policies: :class:`ClaimPolicy` (``init(config)``, ``evaluate(eval, out)``),
  :class:`Evaluation`, :class:`Decisions` (``reassign``, ``dead_letter``, ``ack``, ``leave``),
  :class:`Balancer`, :class:`Nack`;
- both: :class:`Config`, :mod:`sluice_plugin.log`.

The export glue (:mod:`sluice_plugin.export`) turns a class into the component's exports; it
is the only module that needs the bindings ``componentize-py`` generates, so everything else
runs (and is unit-tested) on a plain CPython.

Layout: ``config`` (Config, Fail), ``event`` (EntryId, Event, the packed layouts),
``outputs`` (Outputs), ``policy`` (Evaluation, Decisions, Balancer), ``plugin`` (the two base
classes), ``export`` (the glue), ``log``.
"""

from .config import Config, Fail
from .event import EntryId, Event, pack_fields, unpack_fields, pack_batch, read_batch
from .outputs import Outputs
from .policy import (
    Ack,
    Balancer,
    Consumer,
    DeadLetter,
    Decisions,
    Evaluation,
    Nack,
    PendingEntry,
    Reassign,
)
from .plugin import ClaimPolicy, Router
from . import log

#: The version of the WIT package ``sluice:plugin`` this SDK is written against
#: (``wit/sluice.wit``).
WIT_VERSION = "0.1.1"

__all__ = [
    "Ack",
    "Balancer",
    "ClaimPolicy",
    "Config",
    "Consumer",
    "DeadLetter",
    "Decisions",
    "EntryId",
    "Evaluation",
    "Event",
    "Fail",
    "Nack",
    "Outputs",
    "PendingEntry",
    "Reassign",
    "Router",
    "WIT_VERSION",
    "pack_batch",
    "pack_fields",
    "read_batch",
    "unpack_fields",
]
