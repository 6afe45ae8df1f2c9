//! What a route and a claim policy do with an event they give up on: append it to a
//! dead-letter stream with its own fields followed by `dlq-*` fields saying why and where it
//! came from. A route's dead-letter entry is committed with the batch that moves past the
//! event; a policy's is appended and the entry acknowledged in one step.

/// Why the event was given up on.
pub const DLQ_REASON: &[u8] = b"dlq-reason";
/// The source stream's key.
pub const DLQ_SOURCE: &[u8] = b"dlq-source";
/// The event's ID in the source stream.
pub const DLQ_ID: &[u8] = b"dlq-id";
/// The route that failed it.
pub const DLQ_ROUTE: &[u8] = b"dlq-route";
/// The consumer group a policy gave up on it in.
pub const DLQ_GROUP: &[u8] = b"dlq-group";
/// The entry's delivery count in that group.
pub const DLQ_DELIVERIES: &[u8] = b"dlq-deliveries";
/// The consumer that owned it last.
pub const DLQ_OWNER: &[u8] = b"dlq-owner";
/// The policy that gave up on it.
pub const DLQ_POLICY: &[u8] = b"dlq-policy";

/// The `dlq-*` fields of one given-up event, in the order they are appended.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    fields: Vec<(&'static [u8], Vec<u8>)>,
}

impl DeadLetter {
    /// An event of `source` with ID `id` (`"<ms>-<seq>"`) given up on for `reason`.
    pub fn new(reason: &str, source: &[u8], id: &str) -> Self {
        DeadLetter {
            fields: vec![
                (DLQ_REASON, reason.as_bytes().to_vec()),
                (DLQ_SOURCE, source.to_vec()),
                (DLQ_ID, id.as_bytes().to_vec()),
            ],
        }
    }

    /// The route that failed it.
    pub fn route(mut self, route: &str) -> Self {
        self.fields.push((DLQ_ROUTE, route.as_bytes().to_vec()));
        self
    }

    /// The group, delivery count, last owner and policy of a pending entry a claim policy
    /// gave up on.
    pub fn policy(mut self, group: &[u8], deliveries: u64, owner: &str, policy: &str) -> Self {
        self.fields.extend([
            (DLQ_GROUP, group.to_vec()),
            (DLQ_DELIVERIES, deliveries.to_string().into_bytes()),
            (DLQ_OWNER, owner.as_bytes().to_vec()),
            (DLQ_POLICY, policy.as_bytes().to_vec()),
        ]);
        self
    }

    /// The event's own fields followed by the `dlq-*` ones.
    pub fn entry<'a>(&'a self, event: &[&'a [u8]]) -> Vec<&'a [u8]> {
        let mut all = Vec::with_capacity(event.len() + 2 * self.fields.len());
        all.extend_from_slice(event);
        for (name, value) in &self.fields {
            all.push(name);
            all.push(value);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_events_own() {
        let route = DeadLetter::new("bad", b"orders", "1-1").route("r");
        assert_eq!(
            route.entry(&[b"id", b"7"]),
            [
                &b"id"[..],
                b"7",
                b"dlq-reason",
                b"bad",
                b"dlq-source",
                b"orders",
                b"dlq-id",
                b"1-1",
                b"dlq-route",
                b"r"
            ]
        );
        let policy = DeadLetter::new("stuck", b"jobs", "2-0").policy(b"g", 3, "c1", "p");
        let entry = policy.entry(&[]);
        assert_eq!(entry.len(), 14);
        assert_eq!(
            entry[6..],
            [
                &b"dlq-group"[..],
                b"g",
                b"dlq-deliveries",
                b"3",
                b"dlq-owner",
                b"c1",
                b"dlq-policy",
                b"p"
            ]
        );
    }
}
