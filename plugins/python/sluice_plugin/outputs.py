"""``Outputs``: what a router answers for the events of one batch, kept in the shape the WIT's
``routed`` record has (destinations interned, new fields packed into one buffer)."""

import struct

_U32 = struct.Struct("<I")


class NewFields:
    """The fields of an output made by :meth:`Outputs.emit`; chain :meth:`field` calls."""

    __slots__ = ("_out", "_index")

    def __init__(self, out, index):
        self._out = out
        self._index = index

    def field(self, name, value):
        """Appends a field (``str`` or bytes name and value)."""
        name = name.encode() if isinstance(name, str) else bytes(name)
        value = value.encode() if isinstance(value, str) else bytes(value)
        buf = self._out._new_fields
        before = len(buf)
        buf += _U32.pack(len(name))
        buf += name
        buf += _U32.pack(len(value))
        buf += value
        event, dest, offset, length = self._out._outputs[self._index]
        self._out._outputs[self._index] = (event, dest, offset, length + len(buf) - before)
        return self

    def fields(self, pairs):
        """Appends every (name, value) pair (a dict's items work)."""
        if hasattr(pairs, "items"):
            pairs = pairs.items()
        for name, value in pairs:
            self.field(name, value)
        return self


class Outputs:
    """The outputs of a batch. For each event, call :meth:`forward` (same fields) or
    :meth:`emit` (new fields) any number of times: zero drops the event, several fan out."""

    __slots__ = ("_destinations", "_dest_index", "_outputs", "_new_fields", "_failures",
                 "_event", "_mark")

    def __init__(self):
        self._destinations = []
        self._dest_index = {}
        # (event, destination index, offset or -1 for "same fields", length)
        self._outputs = []
        self._new_fields = bytearray()
        self._failures = []
        self._event = 0
        self._mark = (0, 0)

    def _intern(self, destination):
        i = self._dest_index.get(destination)
        if i is None:
            i = len(self._destinations)
            self._destinations.append(destination)
            self._dest_index[destination] = i
        return i

    def forward(self, destination):
        """Sends the current event, unchanged, to stream ``destination`` (cheapest: nothing
        is copied back)."""
        self._outputs.append((self._event, self._intern(destination), -1, 0))

    def emit(self, destination):
        """Sends new fields to ``destination``: add them with ``.field(name, value)``."""
        self._outputs.append(
            (self._event, self._intern(destination), len(self._new_fields), 0)
        )
        return NewFields(self, len(self._outputs) - 1)

    def current(self):
        """The current event's outputs so far: ``(destination, None | [(name, value)])``,
        ``None`` meaning the event's own fields. For unit tests of a plugin."""
        from .event import unpack_fields

        result = []
        for _, dest, offset, length in self._outputs[self._mark[0]:]:
            fields = None
            if offset >= 0:
                fields = unpack_fields(bytes(self._new_fields[offset : offset + length]))
            result.append((self._destinations[dest], fields))
        return result

    # The export glue's side.

    def begin(self, index):
        """Starts recording for event ``index`` of the batch."""
        self._event = index
        self._mark = (len(self._outputs), len(self._new_fields))

    def fail(self, reason):
        """Drops the current event's outputs and records its failure instead."""
        del self._outputs[self._mark[0]:]
        del self._new_fields[self._mark[1]:]
        self._failures.append((self._event, str(reason)))

    def parts(self):
        """``(destinations, outputs, new_fields, failures)`` with outputs as ``(event,
        destination, offset or -1, length)`` and failures as ``(event, reason)``."""
        return self._destinations, self._outputs, bytes(self._new_fields), self._failures
