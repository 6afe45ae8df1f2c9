"""A claim policy's view of one round (``Evaluation``: the group's pending entries and
consumers) and its answer (``Decisions``), plus ``Balancer`` to spread reassignments."""

from enum import Enum

from .event import EntryId


class Nack(Enum):
    """How a pending entry was handed back with ``XNACK`` (and not claimed since)."""

    #: ``XNACK ... SILENT`` or ``FAIL``: retry it.
    RETRY = "retry"
    #: ``XNACK ... FATAL``: the consumer says it can never be processed.
    FATAL = "fatal"


class PendingEntry:
    """One pending entry: ``index`` (in the round), ``id``, ``owner`` (``""`` when NACKed),
    ``idle_ms``, ``deliveries``, ``nack`` (a :class:`Nack` or ``None``)."""

    __slots__ = ("index", "id", "owner", "idle_ms", "deliveries", "nack")

    def __init__(self, index, id, owner, idle_ms, deliveries, nack=None):
        self.index = index
        self.id = id if isinstance(id, EntryId) else EntryId.parse(id)
        self.owner = owner
        self.idle_ms = idle_ms
        self.deliveries = deliveries
        self.nack = nack

    def __repr__(self):
        return (f"PendingEntry({self.index}, {str(self.id)!r}, {self.owner!r}, "
                f"idle_ms={self.idle_ms}, deliveries={self.deliveries}, nack={self.nack})")


class Consumer:
    """One consumer of the group: ``name``, ``seen_idle_ms`` (since it last tried to read),
    ``active_idle_ms`` (since it last got an entry; ``None`` if never), ``pending``."""

    __slots__ = ("name", "seen_idle_ms", "active_idle_ms", "pending")

    def __init__(self, name, seen_idle_ms=0, active_idle_ms=None, pending=0):
        self.name = name
        self.seen_idle_ms = seen_idle_ms
        self.active_idle_ms = active_idle_ms
        self.pending = pending

    def __repr__(self):
        return f"Consumer({self.name!r}, seen_idle_ms={self.seen_idle_ms}, pending={self.pending})"


class Evaluation:
    """One round: the stream ``key``, the ``group``, ``pending`` entries (oldest first) and
    ``consumers``. Build one in unit tests with :meth:`with_pending` and :meth:`with_consumer`."""

    __slots__ = ("key", "group", "pending", "consumers")

    def __init__(self, key, group):
        self.key = key
        self.group = group
        self.pending = []
        self.consumers = []

    def with_pending(self, id, owner, idle_ms, deliveries, nack=None):
        """Adds a pending entry (for tests); returns ``self``."""
        self.pending.append(
            PendingEntry(len(self.pending), id, owner, idle_ms, deliveries, nack)
        )
        return self

    def with_consumer(self, name, seen_idle_ms=0, active_idle_ms=None, pending=0):
        """Adds a consumer (for tests); returns ``self``."""
        self.consumers.append(Consumer(name, seen_idle_ms, active_idle_ms, pending))
        return self

    def entry(self, index):
        """The pending entry at ``index``, or ``None``."""
        return self.pending[index] if 0 <= index < len(self.pending) else None

    def consumer(self, name):
        """The consumer called ``name``, or ``None``."""
        for c in self.consumers:
            if c.name == name:
                return c
        return None


class Reassign:
    """Action: give the entry to consumer ``consumer``."""

    __slots__ = ("consumer",)

    def __init__(self, consumer):
        self.consumer = consumer

    def __eq__(self, other):
        return isinstance(other, Reassign) and other.consumer == self.consumer

    def __repr__(self):
        return f"Reassign({self.consumer!r})"


class DeadLetter:
    """Action: append the entry to stream ``key`` with ``reason``, and acknowledge it."""

    __slots__ = ("key", "reason")

    def __init__(self, key, reason):
        self.key = key
        self.reason = reason

    def __eq__(self, other):
        return isinstance(other, DeadLetter) and (other.key, other.reason) == (self.key, self.reason)

    def __repr__(self):
        return f"DeadLetter({self.key!r}, {self.reason!r})"


class Ack:
    """Action: acknowledge the entry, as ``XACK`` would."""

    __slots__ = ()

    def __eq__(self, other):
        return isinstance(other, Ack)

    def __repr__(self):
        return "Ack()"


def _index(entry):
    return entry.index if isinstance(entry, PendingEntry) else int(entry)


class Decisions:
    """The round's answer: at most one action per entry (the last one given wins); entries
    with none are left as they are. ``entry`` arguments are a :class:`PendingEntry` or its
    index."""

    __slots__ = ("_slots", "_out_of_range")

    def __init__(self, eval):
        self._slots = [None] * len(eval.pending)
        self._out_of_range = None

    def _set(self, entry, action):
        i = _index(entry)
        if 0 <= i < len(self._slots):
            self._slots[i] = action
        elif self._out_of_range is None:
            self._out_of_range = i

    def reassign(self, entry, consumer):
        """Delivers the entry to ``consumer`` on its next ``XREADGROUP ... >``."""
        self._set(entry, Reassign(consumer))

    def dead_letter(self, entry, key, reason):
        """Moves the entry, with its history, to stream ``key`` and acknowledges it."""
        self._set(entry, DeadLetter(key, str(reason)))

    def ack(self, entry):
        """Acknowledges the entry."""
        self._set(entry, Ack())

    def leave(self, entry):
        """Takes back a decision: the entry is left as it is."""
        self._set(entry, None)

    def get(self, entry):
        """The action decided for ``entry``, or ``None``."""
        i = _index(entry)
        return self._slots[i] if 0 <= i < len(self._slots) else None

    def items(self):
        """``(index, action)`` for each entry acted on, in entry order; raises
        :class:`~sluice_plugin.Fail` if a decision named an entry outside the round."""
        if self._out_of_range is not None:
            from .config import Fail

            raise Fail(
                f"a decision names entry {self._out_of_range}, but the round has "
                f"{len(self._slots)} entries"
            )
        return [(i, a) for i, a in enumerate(self._slots) if a is not None]

    def __len__(self):
        return sum(1 for a in self._slots if a is not None)


class Balancer:
    """Picks the consumer to reassign each entry to: the least loaded eligible one (then the
    most recently seen), never the entry's owner; counts each pick, so one round spreads."""

    def __init__(self, eval, eligible=lambda c: True):
        self._loads = [[c, c.pending] for c in eval.consumers if eligible(c)]

    @classmethod
    def alive(cls, eval, alive_ms):
        """Eligible: consumers seen within ``alive_ms``."""
        return cls(eval, lambda c: c.seen_idle_ms <= alive_ms)

    def pick_for(self, entry):
        """The consumer name to give ``entry`` to, or ``None``."""
        best = None
        for i, (c, load) in enumerate(self._loads):
            if c.name == entry.owner:
                continue
            key = (load, c.seen_idle_ms, i)
            if best is None or key < best[0]:
                best = (key, i)
        if best is None:
            return None
        chosen = self._loads[best[1]]
        chosen[1] += 1
        for slot in self._loads:
            if slot[0].name == entry.owner:
                slot[1] = max(0, slot[1] - 1)
        return chosen[0].name
