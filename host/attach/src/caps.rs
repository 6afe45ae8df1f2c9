//! What the attached server can do, probed once at start: the commands and options the
//! faster or gentler paths need, and the fallbacks taken without them.

use redis::Value;

use crate::conn::Conn;

/// The attached server's capabilities.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    /// `FUNCTION LOAD` worked (else commits run through `EVALSHA`).
    pub functions: bool,
    /// `XADD … IDMP` (Redis 8.6).
    pub idmp: bool,
    /// `XREADGROUP … CLAIM` (Redis 8.4).
    pub claim: bool,
    /// `XNACK` (Redis 8.8).
    pub xnack: bool,
    /// `XACKDEL` (Redis 8.2).
    pub xackdel: bool,
}

impl Caps {
    /// Asks the server (`COMMAND INFO`, `COMMAND DOCS`); anything it cannot answer counts as
    /// absent.
    pub async fn probe(conn: &mut Conn) -> Caps {
        let known = |name: &'static str| {
            let mut cmd = redis::cmd("COMMAND");
            cmd.arg("INFO").arg(name);
            cmd
        };
        let docs = |name: &'static str| {
            let mut cmd = redis::cmd("COMMAND");
            cmd.arg("DOCS").arg(name);
            cmd
        };
        let has = |v: Option<Value>| matches!(v, Some(Value::Array(a)) if a.iter().any(|x| *x != Value::Nil));
        let mentions = |v: Option<Value>, word: &str| v.is_some_and(|v| flat(&v).contains(word));
        Caps {
            functions: false,
            idmp: mentions(conn.query(&docs("xadd")).await.ok(), "idmp"),
            claim: mentions(conn.query(&docs("xreadgroup")).await.ok(), "claim"),
            xnack: has(conn.query(&known("xnack")).await.ok()),
            xackdel: has(conn.query(&known("xackdel")).await.ok()),
        }
    }

    /// One line for the log.
    pub fn describe(&self) -> String {
        self.lines()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `INFO` lines: each capability, and the path taken without it.
    pub fn lines(&self) -> Vec<(String, String)> {
        let pick =
            |yes: bool, with: &str, without: &str| if yes { with } else { without }.to_owned();
        vec![
            (
                "attached_commit".into(),
                pick(self.functions, "function", "evalsha"),
            ),
            (
                "attached_cross_slot_append".into(),
                // IDMP keeps one ID per producer and entry; an append that must happen once
                // per (route, source entry, output) is decided by the seen key either way.
                pick(
                    self.idmp,
                    "function-set-nx (idmp available)",
                    "function-set-nx",
                ),
            ),
            (
                "attached_claim".into(),
                pick(
                    self.claim,
                    "xautoclaim (xreadgroup-claim available)",
                    "xautoclaim",
                ),
            ),
            (
                "attached_release".into(),
                pick(self.xnack, "xnack-silent", "claim-after-idle"),
            ),
            (
                "attached_xackdel".into(),
                pick(self.xackdel, "available", "absent"),
            ),
        ]
    }
}

/// A reply's strings, lower-cased and joined, to look for a word in.
fn flat(value: &Value) -> String {
    let mut out = String::new();
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::BulkString(b) => {
                out.push_str(&String::from_utf8_lossy(b).to_lowercase());
                out.push(' ');
            }
            Value::SimpleString(s) => {
                out.push_str(&s.to_lowercase());
                out.push(' ');
            }
            Value::Array(items) | Value::Set(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out);
            }),
            _ => {}
        }
    }
    walk(value, &mut out);
    out
}
