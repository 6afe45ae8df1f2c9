//! [`Routed`]: a plugin's answer for one batch, checked against the contract once and then read
//! without further checks.
//!
//! Outputs refer to input events by index and to destinations by index into a small table, so
//! the plugin never copies an event back; only new fields travel, packed. Everything the plugin
//! sent is untrusted: [`Routed::check`] refuses indices out of range, outputs out of order,
//! spans outside their buffer and malformed packed fields.

use crate::bindings::{RawOutput, RawRouted};

/// One output of a batch: an input event sent to a destination stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Output<'a> {
    /// Index of the input event in the batch.
    pub event: usize,
    /// The destination stream's key.
    pub destination: &'a str,
    /// The fields to append there.
    pub fields: OutputFields<'a>,
}

/// The fields an output carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFields<'a> {
    /// The input event's own fields, unchanged.
    Same,
    /// New fields chosen by the plugin.
    New(PackedFields<'a>),
}

/// Fields in the packed layout (`name-len: u32 LE, name, value-len: u32 LE, value`, repeated),
/// already checked to be well formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedFields<'a>(&'a [u8]);

impl<'a> PackedFields<'a> {
    /// Fields already known to be well formed (the host's own batches).
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self(bytes)
    }

    /// The (name, value) pairs, in order.
    pub fn iter(&self) -> PackedFieldsIter<'a> {
        PackedFieldsIter(self.0)
    }

    /// The fields flattened as `XADD` takes them: name, value, name, value, ...
    pub fn to_flat(&self) -> Vec<&'a [u8]> {
        self.iter().flat_map(|(n, v)| [n, v]).collect()
    }

    /// Number of (name, value) pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there is no field at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Iterator over [`PackedFields`].
#[derive(Debug, Clone)]
pub struct PackedFieldsIter<'a>(&'a [u8]);

impl<'a> Iterator for PackedFieldsIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let name = take_chunk(&mut self.0)?;
        let value = take_chunk(&mut self.0)?;
        Some((name, value))
    }
}

/// Reads one `len: u32 LE, bytes` chunk off the front of `rest`.
fn take_chunk<'a>(rest: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, tail) = rest.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    if tail.len() < len {
        return None;
    }
    let (chunk, tail) = tail.split_at(len);
    *rest = tail;
    Some(chunk)
}

/// Whether `bytes` is a whole number of well-formed packed fields.
fn well_formed(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        if take_chunk(&mut bytes).is_none() || take_chunk(&mut bytes).is_none() {
            return false;
        }
    }
    true
}

/// A per-event failure reported by the plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Index of the input event in the batch.
    pub event: usize,
    /// The plugin's reason, for the dead-letter entry.
    pub reason: String,
}

/// What became of one input event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<'a> {
    /// The event's outputs, in order; none means the event was filtered out.
    Outputs(Vec<Output<'a>>),
    /// The plugin failed this event: dead-letter, skip or halt according to the route.
    Failed(&'a str),
}

/// A plugin's checked answer for one batch.
#[derive(Debug, Clone)]
pub struct Routed {
    events: usize,
    destinations: Vec<String>,
    outputs: Vec<RawOutput>,
    new_fields: Vec<u8>,
    failures: Vec<Failure>,
}

impl Routed {
    /// Checks `raw` against the contract for a batch of `events` events.
    pub(crate) fn check(raw: RawRouted, events: usize) -> Result<Self, String> {
        if let Some(bad) = raw.destinations.iter().find(|d| d.is_empty()) {
            return Err(format!("empty destination stream key {bad:?}"));
        }
        let mut last_event = 0;
        for (i, out) in raw.outputs.iter().enumerate() {
            let event = out.event as usize;
            if event >= events {
                return Err(format!(
                    "output {i} refers to event {event} of a batch of {events}"
                ));
            }
            if event < last_event {
                return Err(format!("output {i} (event {event}) is out of event order"));
            }
            last_event = event;
            if out.destination as usize >= raw.destinations.len() {
                return Err(format!(
                    "output {i} refers to destination {} of {}",
                    out.destination,
                    raw.destinations.len()
                ));
            }
            if let Some(span) = out.fields {
                let end = span.offset as usize + span.len as usize;
                let Some(bytes) = raw.new_fields.get(span.offset as usize..end) else {
                    return Err(format!(
                        "output {i}'s fields {}..{end} lie outside the {} bytes of new fields",
                        span.offset,
                        raw.new_fields.len()
                    ));
                };
                if !well_formed(bytes) {
                    return Err(format!("output {i}'s new fields are not well formed"));
                }
            }
        }
        let mut failures = Vec::with_capacity(raw.failures.len());
        for f in raw.failures {
            let event = f.event as usize;
            if event >= events {
                return Err(format!(
                    "a failure refers to event {event} of a batch of {events}"
                ));
            }
            if failures.last().is_some_and(|p: &Failure| p.event >= event) {
                return Err(format!("failure for event {event} is out of order"));
            }
            if raw
                .outputs
                .binary_search_by_key(&f.event, |o| o.event)
                .is_ok()
            {
                return Err(format!("event {event} has both outputs and a failure"));
            }
            failures.push(Failure {
                event,
                reason: f.reason,
            });
        }
        Ok(Self {
            events,
            destinations: raw.destinations,
            outputs: raw.outputs,
            new_fields: raw.new_fields,
            failures,
        })
    }

    /// Number of input events this answer is for.
    pub fn event_count(&self) -> usize {
        self.events
    }

    /// Number of outputs.
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// All outputs, in input-event order.
    pub fn outputs(&self) -> impl ExactSizeIterator<Item = Output<'_>> + '_ {
        self.outputs.iter().map(|raw| self.view(raw))
    }

    /// The events the plugin failed, in increasing event order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The distinct destination keys the outputs use.
    pub fn destinations(&self) -> &[String] {
        &self.destinations
    }

    /// One [`Decision`] per input event, in batch order.
    pub fn decisions(&self) -> Vec<Decision<'_>> {
        let mut decisions: Vec<Decision<'_>> = (0..self.events)
            .map(|_| Decision::Outputs(Vec::new()))
            .collect();
        for raw in &self.outputs {
            if let Some(Decision::Outputs(list)) = decisions.get_mut(raw.event as usize) {
                list.push(self.view(raw));
            }
        }
        for f in &self.failures {
            if let Some(d) = decisions.get_mut(f.event) {
                *d = Decision::Failed(&f.reason);
            }
        }
        decisions
    }

    fn view(&self, raw: &RawOutput) -> Output<'_> {
        // Indices and spans were checked in `check`; `get` keeps this panic-free regardless.
        let destination = self
            .destinations
            .get(raw.destination as usize)
            .map_or("", String::as_str);
        let fields = match raw.fields {
            None => OutputFields::Same,
            Some(span) => {
                let start = span.offset as usize;
                let end = start + span.len as usize;
                OutputFields::New(PackedFields(self.new_fields.get(start..end).unwrap_or(&[])))
            }
        };
        Output {
            event: raw.event as usize,
            destination,
            fields,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::exports::sluice::plugin::routing::Failure as RawFailure;
    use crate::bindings::sluice::plugin::types::Span;

    fn packed(fields: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (n, v) in fields {
            out.extend_from_slice(&(n.len() as u32).to_le_bytes());
            out.extend_from_slice(n);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    fn raw(outputs: Vec<RawOutput>, new_fields: Vec<u8>, failures: Vec<RawFailure>) -> RawRouted {
        RawRouted {
            destinations: vec!["a".into(), "b".into()],
            outputs,
            new_fields,
            failures,
        }
    }

    fn out(event: u32, destination: u32, fields: Option<(u32, u32)>) -> RawOutput {
        RawOutput {
            event,
            destination,
            fields: fields.map(|(offset, len)| Span { offset, len }),
        }
    }

    #[test]
    fn reads_outputs_and_decisions() {
        let nf = packed(&[(b"k", b"v")]);
        let len = nf.len() as u32;
        let routed = Routed::check(
            raw(
                vec![out(0, 1, None), out(0, 0, Some((0, len)))],
                nf,
                vec![RawFailure {
                    event: 2,
                    reason: "bad".into(),
                }],
            ),
            3,
        )
        .expect("valid");
        let outs: Vec<_> = routed.outputs().collect();
        assert_eq!(outs[0].destination, "b");
        assert_eq!(outs[0].fields, OutputFields::Same);
        let OutputFields::New(fields) = outs[1].fields else {
            panic!("new fields expected")
        };
        assert_eq!(fields.to_flat(), vec![&b"k"[..], &b"v"[..]]);
        let decisions = routed.decisions();
        assert!(matches!(&decisions[0], Decision::Outputs(o) if o.len() == 2));
        assert_eq!(decisions[1], Decision::Outputs(vec![]));
        assert_eq!(decisions[2], Decision::Failed("bad"));
    }

    #[test]
    fn refuses_what_breaks_the_contract() {
        let bad = [
            raw(vec![out(5, 0, None)], vec![], vec![]),
            raw(vec![out(1, 0, None), out(0, 0, None)], vec![], vec![]),
            raw(vec![out(0, 9, None)], vec![], vec![]),
            raw(vec![out(0, 0, Some((2, 10)))], vec![0; 4], vec![]),
            raw(vec![out(0, 0, Some((0, 4)))], vec![9, 0, 0, 0], vec![]),
            raw(
                vec![out(0, 0, None)],
                vec![],
                vec![RawFailure {
                    event: 0,
                    reason: "x".into(),
                }],
            ),
        ];
        for r in bad {
            assert!(Routed::check(r, 2).is_err());
        }
    }
}
