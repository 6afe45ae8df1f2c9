"""Events as the broker passes them: ``EntryId``, ``Event``, and the packed layouts of
``wit/sluice.wit`` (packed fields; the batch of events ``route`` receives)."""

import struct

_U32 = struct.Struct("<I")
_HEAD = struct.Struct("<QQI")  # ms, seq, fields-len


class EntryId:
    """A stream entry ID, ``"<ms>-<seq>"``."""

    __slots__ = ("ms", "seq")

    def __init__(self, ms=0, seq=0):
        self.ms = ms
        self.seq = seq

    @classmethod
    def parse(cls, text):
        """``"5-1"`` (or ``"5"``, sequence 0) as an ID; raises ``ValueError`` otherwise."""
        ms, _, seq = str(text).partition("-")
        return cls(int(ms), int(seq or 0))

    def __eq__(self, other):
        return isinstance(other, EntryId) and (self.ms, self.seq) == (other.ms, other.seq)

    def __lt__(self, other):
        return (self.ms, self.seq) < (other.ms, other.seq)

    def __hash__(self):
        return hash((self.ms, self.seq))

    def __str__(self):
        return f"{self.ms}-{self.seq}"

    def __repr__(self):
        return f"EntryId({self.ms}, {self.seq})"


def _bytes(x):
    return x.encode() if isinstance(x, str) else bytes(x)


def pack_fields(fields):
    """Packs (name, value) pairs (``str`` or bytes; a dict's items work) in the packed-fields
    layout: ``name-len u32 LE, name, value-len u32 LE, value`` per field."""
    if hasattr(fields, "items"):
        fields = fields.items()
    out = bytearray()
    for name, value in fields:
        name, value = _bytes(name), _bytes(value)
        out += _U32.pack(len(name))
        out += name
        out += _U32.pack(len(value))
        out += value
    return bytes(out)


def unpack_fields(packed):
    """The (name, value) byte pairs of a packed-fields buffer; stops at a truncated entry."""
    view = memoryview(packed)
    pairs = []
    pos, end = 0, len(view)
    while pos + 4 <= end:
        (n,) = _U32.unpack_from(view, pos)
        pos += 4
        if pos + n + 4 > end:
            break
        name = bytes(view[pos : pos + n])
        pos += n
        (m,) = _U32.unpack_from(view, pos)
        pos += 4
        if pos + m > end:
            break
        pairs.append((name, bytes(view[pos : pos + m])))
        pos += m
    return pairs


def pack_batch(events):
    """Packs ``(EntryId, packed_fields)`` pairs as the broker passes a batch (for tests)."""
    out = bytearray()
    for id, fields in events:
        out += _HEAD.pack(id.ms, id.seq, len(fields))
        out += fields
    return bytes(out)


def read_batch(count, events):
    """Yields ``(EntryId, packed_fields)`` for each of the ``count`` events of a batch;
    raises ``ValueError`` if the bytes end early."""
    view = memoryview(events)
    pos, end = 0, len(view)
    for index in range(count):
        if pos + 20 > end:
            raise ValueError(f"malformed batch: event {index} of {count}")
        ms, seq, n = _HEAD.unpack_from(view, pos)
        pos += 20
        if pos + n > end:
            raise ValueError(f"malformed batch: event {index} of {count}")
        yield EntryId(ms, seq), bytes(view[pos : pos + n])
        pos += n


class Event:
    """One event of the batch: the source stream ``key``, its ``id``, its fields.

    Field names and values are bytes in Redis; the lookups take a name as ``str`` or bytes.
    """

    __slots__ = ("key", "id", "index", "_packed", "_pairs")

    def __init__(self, key, id, fields, index=0):
        """``fields``: packed bytes (as the broker sends them), or (name, value) pairs / a
        dict (handy in unit tests)."""
        self.key = key
        self.id = id if isinstance(id, EntryId) else EntryId.parse(id)
        self.index = index
        if isinstance(fields, (bytes, bytearray, memoryview)):
            self._packed = bytes(fields)
        else:
            self._packed = pack_fields(fields)
        self._pairs = None

    def fields(self):
        """All (name, value) pairs, as bytes, in order."""
        if self._pairs is None:
            self._pairs = unpack_fields(self._packed)
        return self._pairs

    def get(self, name):
        """The value of field ``name`` as bytes, or ``None`` (the first one if repeated)."""
        name = _bytes(name)
        for n, v in self.fields():
            if n == name:
                return v
        return None

    def str(self, name):
        """The value of field ``name`` as text, or ``None`` if missing or not UTF-8."""
        value = self.get(name)
        if value is None:
            return None
        try:
            return value.decode()
        except UnicodeDecodeError:
            return None

    def number(self, name):
        """The value of field ``name`` as a float, or ``None`` if missing or not a number."""
        value = self.str(name)
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            return None

    @property
    def packed(self):
        """The fields in the packed layout, as received."""
        return self._packed

    def __repr__(self):
        return f"Event({self.key!r}, {str(self.id)!r}, {self.fields()!r})"
