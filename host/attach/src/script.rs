//! The server-side code commits run as: a Lua function library loaded with `FUNCTION LOAD` on
//! every master, or, where the server has no functions (before Redis 7), the same bodies as
//! scripts through `EVALSHA` (loaded again by the client after `NOSCRIPT`).
//!
//! - `sluice_commit`: for each source entry, `XACK` it, and only if that returned 1 append its
//!   outputs; so a late commit from an instance whose entries were claimed emits nothing.
//! - `sluice_append`: an append that happens once per `seen` key and window (`SET NX PX`),
//!   for outputs in another slot than their source.
//! - `sluice_lease`: takes or renews a lease key held by one instance.

use redis::{Cmd, RedisResult, Value};

use crate::conn::Conn;

/// The library's name; a new version of the bodies gets a new name, so instances of two
/// versions sharing a cluster do not replace each other's.
const LIBRARY: &str = "sluice_v1";

/// `KEYS[1]` the source, `KEYS[2..]` destinations in its slot. `ARGV`: the group, then per
/// entry its ID and append count, then per append the destination's index in `KEYS`, 1 for
/// a dead-letter, the field count and the fields. Returns acknowledged entries, outputs,
/// dead-letters, and the errors of appends a stream refused.
const COMMIT: &str = r#"
local group = args[1]
local i = 2
local acked, outs, dead = 0, 0, 0
local errors = {}
while i <= #args do
  local id, n = args[i], tonumber(args[i + 1])
  i = i + 2
  local mine = redis.call('XACK', keys[1], group, id) == 1
  if mine then acked = acked + 1 end
  for _ = 1, n do
    local key, letter, nf = keys[tonumber(args[i])], args[i + 1] == '1', tonumber(args[i + 2])
    i = i + 3
    if mine then
      local r = redis.pcall('XADD', key, '*', unpack(args, i, i + nf - 1))
      if type(r) == 'table' and r.err then
        errors[#errors + 1] = key .. ': ' .. r.err
      elseif letter then
        dead = dead + 1
      else
        outs = outs + 1
      end
    end
    i = i + nf
  end
end
return {acked, outs, dead, errors}
"#;

/// `KEYS[1]` the destination, `KEYS[2]` the seen key; `ARGV`: the window (ms) and the
/// fields. Returns 1 if appended, 0 if already appended within the window.
const APPEND: &str = r#"
if not redis.call('SET', keys[2], '1', 'NX', 'PX', args[1]) then return 0 end
local r = redis.pcall('XADD', keys[1], '*', unpack(args, 2))
if type(r) == 'table' and r.err then
  redis.call('DEL', keys[2])
  return r
end
return 1
"#;

/// `KEYS[1]` the lease; `ARGV`: this instance, the lease's length (ms). Returns 1 while
/// this instance holds it.
const LEASE: &str = r#"
local holder = redis.call('GET', keys[1])
if holder == false then
  redis.call('SET', keys[1], args[1], 'PX', args[2])
  return 1
end
if holder == args[1] then
  redis.call('PEXPIRE', keys[1], args[2])
  return 1
end
return 0
"#;

/// One of the library's functions.
#[derive(Debug, Clone, Copy)]
pub enum Function {
    Commit,
    Append,
    Lease,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::Commit => "sluice_commit",
            Function::Append => "sluice_append",
            Function::Lease => "sluice_lease",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Function::Commit => COMMIT,
            Function::Append => APPEND,
            Function::Lease => LEASE,
        }
    }
}

/// The library's source for `FUNCTION LOAD`.
fn library() -> String {
    let mut lib = format!("#!lua name={LIBRARY}\n");
    for f in [Function::Commit, Function::Append, Function::Lease] {
        lib.push_str(&format!(
            "redis.register_function('{}', function(keys, args)\n{}\nend)\n",
            f.name(),
            f.body()
        ));
    }
    lib
}

/// How the functions are called on this server.
#[derive(Debug)]
pub struct Scripts {
    /// `FUNCTION LOAD` worked: `FCALL`; otherwise `EVALSHA`.
    functions: bool,
    scripts: [redis::Script; 3],
}

impl Scripts {
    /// Loads the library on every master; falls back to scripts where functions are unknown.
    pub async fn load(conn: &mut Conn) -> Scripts {
        let scripts = [Function::Commit, Function::Append, Function::Lease]
            .map(|f| redis::Script::new(&format!("local keys, args = KEYS, ARGV\n{}", f.body())));
        let functions = match load_library(conn).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("FUNCTION LOAD failed ({e}); committing through EVALSHA");
                false
            }
        };
        Scripts { functions, scripts }
    }

    /// Whether commits run as functions (else as scripts).
    pub fn functions(&self) -> bool {
        self.functions
    }

    /// Calls `f` with `keys` (all in one slot) and `args`. A library missing on a node (a
    /// failover to a replica that never had it, a `FUNCTION FLUSH`) is loaded again and
    /// the call repeated once.
    pub async fn call(
        &self,
        conn: &mut Conn,
        f: Function,
        keys: &[&[u8]],
        args: &[&[u8]],
    ) -> RedisResult<Value> {
        if !self.functions {
            let script = &self.scripts[f as usize];
            let mut invocation = script.prepare_invoke();
            for k in keys {
                invocation.key(*k);
            }
            for a in args {
                invocation.arg(*a);
            }
            return match conn {
                Conn::Cluster(c) => invocation.invoke_async(c).await,
                Conn::Single(c) => invocation.invoke_async(c).await,
            };
        }
        let mut cmd = Cmd::new();
        cmd.arg("FCALL").arg(f.name()).arg(keys.len());
        for k in keys {
            cmd.arg(*k);
        }
        for a in args {
            cmd.arg(*a);
        }
        match conn.query::<Value>(&cmd).await {
            Err(e) if e.to_string().contains("Function not found") => {
                load_library(conn).await?;
                conn.query(&cmd).await
            }
            other => other,
        }
    }
}

async fn load_library(conn: &mut Conn) -> RedisResult<()> {
    let mut load = redis::cmd("FUNCTION");
    load.arg("LOAD").arg("REPLACE").arg(library());
    conn.on_all_masters(&load).await
}
