//! `INFO [section ...]`: the server's state as `field:value` lines, in Redis's format.
//!
//! Sections are a table ([`SECTIONS`]) of renderers, in the order Redis prints them; a feature
//! that wants to report something (persistence, routes, command stats) adds a row. The reply
//! is `# Title\r\nfield:value\r\n…`, sections separated by a blank line, sent as verbatim text
//! (a bulk string to RESP2 clients), exactly as Redis sends it.
//!
//! # Layout
//! - [`general`] — Redis's small sections (`server`, `clients`, `replication`, `cpu`,
//!   `modules`, `cluster`, `keyspace`).
//! - [`memory`] — `memory`.
//! - [`persistence`] — `persistence`.
//! - [`counters`] — `stats`, `commandstats`, `errorstats`, `latencystats`.
//! - [`routing`] — Sluice's own: `routes`, `plugins`, `policies`.

use std::fmt::{Display, Write as _};

use bytes::Bytes;
use sluice_resp::{Args, Reply};

use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx};
use crate::shared::Shared;

mod counters;
mod general;
pub(crate) mod memory;
mod persistence;
mod routing;

pub use general::random_run_id;
pub use memory::human_bytes;

/// One `INFO` section.
#[derive(Debug)]
pub struct Section {
    /// Name as requested, lower-case (`server`).
    pub name: &'static str,
    /// Heading as printed (`Server`).
    pub title: &'static str,
    /// Part of a bare `INFO` (`INFO default`); `all` and `everything` include every section.
    pub default: bool,
    /// Writes the section's fields.
    pub render: fn(&Shared, &mut Fields<'_>),
}

/// Every section, in print order: Redis 7.2's, then Sluice's own.
pub static SECTIONS: &[Section] = &[
    Section {
        name: "server",
        title: "Server",
        default: true,
        render: general::server,
    },
    Section {
        name: "clients",
        title: "Clients",
        default: true,
        render: general::clients,
    },
    Section {
        name: "memory",
        title: "Memory",
        default: true,
        render: memory::memory,
    },
    Section {
        name: "persistence",
        title: "Persistence",
        default: true,
        render: persistence::persistence,
    },
    Section {
        name: "stats",
        title: "Stats",
        default: true,
        render: counters::stats,
    },
    Section {
        name: "replication",
        title: "Replication",
        default: true,
        render: general::replication,
    },
    Section {
        name: "cpu",
        title: "CPU",
        default: true,
        render: general::cpu,
    },
    Section {
        name: "modules",
        title: "Modules",
        default: true,
        render: general::modules,
    },
    Section {
        name: "commandstats",
        title: "Commandstats",
        default: false,
        render: counters::commandstats,
    },
    Section {
        name: "errorstats",
        title: "Errorstats",
        default: true,
        render: counters::errorstats,
    },
    Section {
        name: "latencystats",
        title: "Latencystats",
        default: false,
        render: counters::latencystats,
    },
    Section {
        name: "cluster",
        title: "Cluster",
        default: true,
        render: general::cluster,
    },
    Section {
        name: "keyspace",
        title: "Keyspace",
        default: true,
        render: general::keyspace,
    },
    Section {
        name: "routes",
        title: "Routes",
        default: true,
        render: routing::routes,
    },
    Section {
        name: "plugins",
        title: "Plugins",
        default: true,
        render: routing::plugins,
    },
    Section {
        name: "policies",
        title: "Policies",
        default: true,
        render: routing::policies,
    },
];

/// The lines of one section being written.
#[derive(Debug)]
pub struct Fields<'a> {
    out: &'a mut String,
}

impl Fields<'_> {
    /// Appends `name:value\r\n`.
    pub fn field(&mut self, name: &str, value: impl Display) {
        let _ = write!(self.out, "{name}:{value}\r\n");
    }
}

/// The `INFO` command.
pub const INFO: Command = Command {
    name: "info",
    arity: -1,
    flags: LOADING | STALE,
    keys: NOKEYS,
    categories: &["slow", "dangerous"],
    group: "server",
    since: "1.0.0",
    summary: "Returns information and statistics about the server.",
    syntax: "[section [section ...]]",
    handler: info,
    subcommands: &[],
};

/// `INFO [section ...]`.
pub fn info(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let sections = select(args.rest());
    Ok(Reply::Verbatim(render(ctx.shared, &sections)).into())
}

/// The sections a request names, in print order. No names means the default sections;
/// `default`, `all` and `everything` select groups; unknown names select nothing.
pub fn select(requested: &[Bytes]) -> Vec<&'static Section> {
    if requested.is_empty() {
        return SECTIONS.iter().filter(|s| s.default).collect();
    }
    let asked = |s: &Section| {
        requested.iter().any(|r| {
            let is = |word: &str| r.eq_ignore_ascii_case(word.as_bytes());
            is(s.name) || is("all") || is("everything") || (s.default && is("default"))
        })
    };
    SECTIONS.iter().filter(|s| asked(s)).collect()
}

/// The text of `sections`, in Redis's layout.
pub fn render(shared: &Shared, sections: &[&Section]) -> String {
    let mut out = String::new();
    for (i, section) in sections.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        out.push_str("# ");
        out.push_str(section.title);
        out.push_str("\r\n");
        (section.render)(shared, &mut Fields { out: &mut out });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use sluice_broker::{Broker, SystemClock};

    use crate::config::Config;

    fn shared() -> Shared {
        let addr = "127.0.0.1:6399".parse().expect("address");
        let config = Config::default();
        let broker =
            Broker::new(config.broker_config(), Arc::new(SystemClock), None).expect("valid");
        Shared::new(config, broker, addr)
    }

    fn names(requested: &[&str]) -> Vec<&'static str> {
        let requested: Vec<Bytes> = requested
            .iter()
            .map(|r| Bytes::copy_from_slice(r.as_bytes()))
            .collect();
        select(&requested).iter().map(|s| s.name).collect()
    }

    #[test]
    fn sections_print_in_redis_order_whatever_the_request_order() {
        assert_eq!(names(&["KEYSPACE", "Server"]), ["server", "keyspace"]);
        assert_eq!(names(&["nosuch"]), Vec::<&str>::new());
        assert_eq!(names(&[]), names(&["default"]));
        assert_eq!(names(&["everything"]).len(), SECTIONS.len());
    }

    #[test]
    fn layout_matches_redis() {
        let shared = shared();
        let text = render(&shared, &select(&[Bytes::from_static(b"clients")]));
        assert!(text.starts_with("# Clients\r\nconnected_clients:0\r\n"));
        assert!(text.ends_with("total_blocking_keys_on_nokey:0\r\n"));

        let text = render(
            &shared,
            &select(&[
                Bytes::from_static(b"server"),
                Bytes::from_static(b"keyspace"),
            ]),
        );
        assert!(text.contains("redis_version:8.10.0\r\n"));
        assert!(text.contains("tcp_port:6399\r\n"));
        assert!(text.ends_with("\r\n\r\n# Keyspace\r\n"));
        assert!(!text.contains("\n\n"));
    }

    #[test]
    fn bytes_read_like_redis() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(1316328), "1.26M");
        assert_eq!(human_bytes(3 << 30), "3.00G");
    }
}
