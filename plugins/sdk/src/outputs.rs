//! [`Outputs`]: what a plugin answers for the event it is looking at — forward it, or emit new
//! fields — recorded in the compact form the WIT asks for (event and destination by index, new
//! fields packed into one buffer).

use crate::bindings::exports::sluice::plugin::routing::{Failure, Output, Routed};
use crate::bindings::sluice::plugin::types::Span;

/// Collects the outputs of a batch. A plugin sees it through [`crate::Router::route`], where
/// every call adds outputs for the current event.
#[derive(Debug, Default)]
pub struct Outputs {
    destinations: Vec<String>,
    outputs: Vec<Output>,
    new_fields: Vec<u8>,
    failures: Vec<Failure>,
    event: u32,
    /// Where the current event's outputs start, to undo them if the event fails.
    mark: (usize, usize),
}

impl Outputs {
    /// An empty collector (for unit tests of a plugin; the SDK makes the real one).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends the current event, fields unchanged, to the stream `destination`.
    pub fn forward(&mut self, destination: &str) {
        let destination = self.intern(destination);
        self.outputs.push(Output {
            event: self.event,
            destination,
            fields: None,
        });
    }

    /// Sends new fields to the stream `destination`: add them with [`NewFields::field`].
    /// An output with no field added is still sent (an entry with no fields is refused by the
    /// broker, so add at least one).
    pub fn emit(&mut self, destination: &str) -> NewFields<'_> {
        let destination = self.intern(destination);
        let offset = self.new_fields.len() as u32;
        self.outputs.push(Output {
            event: self.event,
            destination,
            fields: Some(Span { offset, len: 0 }),
        });
        NewFields { outputs: self }
    }

    /// The outputs recorded so far for the current event: (destination, new fields or `None`
    /// for the event's own). For unit tests of a plugin.
    pub fn current(&self) -> Vec<(&str, Option<crate::Fields<'_>>)> {
        self.outputs[self.mark.0..]
            .iter()
            .map(|o| {
                let dest = self
                    .destinations
                    .get(o.destination as usize)
                    .map_or("", String::as_str);
                let fields = o.fields.map(|s| {
                    let start = s.offset as usize;
                    crate::Fields(&self.new_fields[start..start + s.len as usize])
                });
                (dest, fields)
            })
            .collect()
    }

    fn intern(&mut self, destination: &str) -> u32 {
        // Routes use a handful of destinations; a scan beats hashing at that size.
        if let Some(i) = self.destinations.iter().position(|d| d == destination) {
            return i as u32;
        }
        self.destinations.push(destination.to_owned());
        (self.destinations.len() - 1) as u32
    }

    /// Starts recording for event `index`.
    pub(crate) fn begin(&mut self, index: u32) {
        self.event = index;
        self.mark = (self.outputs.len(), self.new_fields.len());
    }

    /// Drops the current event's outputs and records its failure instead.
    pub(crate) fn fail(&mut self, reason: String) {
        self.outputs.truncate(self.mark.0);
        self.new_fields.truncate(self.mark.1);
        self.failures.push(Failure {
            event: self.event,
            reason,
        });
    }

    pub(crate) fn into_routed(self) -> Routed {
        Routed {
            destinations: self.destinations,
            outputs: self.outputs,
            new_fields: self.new_fields,
            failures: self.failures,
        }
    }
}

/// Adds fields to the output made by [`Outputs::emit`]; chain the calls.
#[derive(Debug)]
pub struct NewFields<'o> {
    outputs: &'o mut Outputs,
}

impl NewFields<'_> {
    /// Appends a field.
    pub fn field(&mut self, name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> &mut Self {
        let (name, value) = (name.as_ref(), value.as_ref());
        let buf = &mut self.outputs.new_fields;
        let before = buf.len();
        // Lengths fit in u32: a plugin's whole memory is far smaller than 4 GiB.
        buf.extend_from_slice(&(name.len() as u32).to_le_bytes());
        buf.extend_from_slice(name);
        buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        buf.extend_from_slice(value);
        let added = (buf.len() - before) as u32;
        if let Some(Some(span)) = self.outputs.outputs.last_mut().map(|o| o.fields.as_mut()) {
            span.len += added;
        }
        self
    }

    /// Appends every (name, value) pair of `fields`.
    pub fn fields<N, V>(&mut self, fields: impl IntoIterator<Item = (N, V)>) -> &mut Self
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        for (name, value) in fields {
            self.field(name, value);
        }
        self
    }
}

/// Packs (name, value) pairs in the layout events use, e.g. to build an [`crate::Event`] in a
/// plugin's unit tests.
pub fn pack_fields<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (N, V)>,
) -> Vec<u8> {
    let mut out = Outputs::new();
    out.emit("_").fields(fields);
    out.new_fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EntryId, Event};

    #[test]
    fn forward_and_emit_share_destinations_and_pack_fields() {
        let mut out = Outputs::new();
        out.begin(0);
        out.forward("a");
        out.emit("b").field("k", "v").field("x", [1u8, 2]);
        out.begin(1);
        out.forward("a");
        let routed = out.into_routed();
        assert_eq!(routed.destinations, vec!["a", "b"]);
        assert_eq!(routed.outputs.len(), 3);
        assert_eq!(routed.outputs[2].event, 1);
        assert_eq!(routed.outputs[2].destination, 0);
        let span = routed.outputs[1].fields.expect("new fields");
        assert_eq!(
            (span.offset, span.len as usize),
            (0, routed.new_fields.len())
        );
        let fields = crate::Fields(&routed.new_fields);
        let pairs: Vec<_> = fields
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        assert_eq!(
            pairs,
            vec![(&b"k"[..], &b"v"[..]), (&b"x"[..], &[1u8, 2][..])]
        );
    }

    #[test]
    fn a_failed_event_keeps_no_outputs() {
        let mut out = Outputs::new();
        out.begin(0);
        out.forward("a");
        out.begin(1);
        out.emit("b").field("k", "v");
        out.fail("nope".into());
        let routed = out.into_routed();
        assert_eq!(routed.outputs.len(), 1);
        assert!(routed.new_fields.is_empty());
        assert_eq!(routed.failures[0].event, 1);
        assert_eq!(routed.failures[0].reason, "nope");
    }

    #[test]
    fn events_read_fields_by_name() {
        let packed = pack_fields([("region", "eu"), ("amount", "19.5"), ("n", "-3")]);
        let event = Event::new("orders", EntryId { ms: 5, seq: 1 }, &packed);
        assert_eq!(event.key(), "orders");
        assert_eq!(event.id().to_string(), "5-1");
        assert_eq!(event.str("region"), Some("eu"));
        assert_eq!(event.bytes("region"), Some(&b"eu"[..]));
        assert_eq!(event.parse::<f64>("amount"), Some(19.5));
        assert_eq!(event.get("n").and_then(|v| v.as_i64()), Some(-3));
        assert_eq!(event.get("missing"), None);
        assert_eq!(event.fields().iter().count(), 3);
    }

    #[test]
    fn batch_reader_walks_events_and_stops_on_garbage() {
        let fields = pack_fields([("a", "b")]);
        let mut bytes = Vec::new();
        for ms in [1u64, 2] {
            bytes.extend_from_slice(&ms.to_le_bytes());
            bytes.extend_from_slice(&0u64.to_le_bytes());
            bytes.extend_from_slice(&(fields.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&fields);
        }
        bytes.extend_from_slice(&[9, 9, 9]);
        let mut reader = crate::event::BatchReader::new(&bytes);
        assert_eq!(reader.next_event().map(|(id, _)| id.ms), Some(1));
        assert_eq!(
            reader.next_event().map(|(id, f)| (id.ms, f)),
            Some((2, &fields[..]))
        );
        assert_eq!(reader.next_event(), None);
    }
}
