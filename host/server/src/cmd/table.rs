//! The command table: every command the server understands, in the order `COMMAND` and
//! `COMMAND DOCS` list them. Each command's metadata lives beside its handler; this is only
//! the list.

use super::Command;
use super::{acl, conn, group, keys, server, sluice, stream, string};

/// Every top-level command; containers carry their subcommands.
pub static COMMANDS: &[Command] = &[
    // connection
    conn::ping::PING,
    conn::ping::ECHO,
    conn::hello::HELLO,
    conn::auth::AUTH,
    conn::select::SELECT,
    conn::quit::QUIT,
    conn::reset::RESET,
    conn::client::CLIENT,
    // transactions: MULTI/EXEC/DISCARD are run by the connection itself.
    conn::multi::MULTI,
    conn::multi::EXEC,
    conn::multi::DISCARD,
    // server
    server::command::COMMAND,
    server::info::INFO,
    server::config_cmd::CONFIG,
    server::db::DBSIZE,
    server::db::FLUSHALL,
    server::db::FLUSHDB,
    server::db::SWAPDB,
    server::save::SAVE,
    server::save::BGSAVE,
    server::save::LASTSAVE,
    server::save::SHUTDOWN,
    // generic keys
    keys::del::DEL,
    keys::del::UNLINK,
    keys::exists::EXISTS,
    keys::key_type::TYPE,
    keys::scan::KEYS,
    keys::scan::SCAN,
    keys::rename::RENAME,
    keys::expire::EXPIRE,
    keys::expire::PEXPIRE,
    keys::expire::EXPIREAT,
    keys::expire::PEXPIREAT,
    keys::expire::TTL,
    keys::expire::PTTL,
    keys::expire::PERSIST,
    keys::object::OBJECT,
    // strings
    string::get::GET,
    string::set::SET,
    string::set::SETNX,
    string::set::SETEX,
    string::set::PSETEX,
    string::get::GETDEL,
    string::get::GETEX,
    string::set::GETSET,
    string::get::MGET,
    string::set::MSET,
    string::set::MSETNX,
    string::counter::INCR,
    string::counter::INCRBY,
    string::counter::INCRBYFLOAT,
    string::counter::DECR,
    string::counter::DECRBY,
    string::range::APPEND,
    string::range::STRLEN,
    string::range::GETRANGE,
    string::range::SETRANGE,
    // streams
    stream::xadd::XADD,
    stream::xlen::XLEN,
    stream::xrange::XRANGE,
    stream::xrange::XREVRANGE,
    stream::xdel::XDEL,
    stream::xtrim::XTRIM,
    stream::xsetid::XSETID,
    stream::xread::XREAD,
    // consumer groups
    group::xreadgroup::XREADGROUP,
    group::xack::XACK,
    group::xpending::XPENDING,
    group::xclaim::XCLAIM,
    group::xclaim::XAUTOCLAIM,
    group::xgroup::XGROUP,
    // Sluice's own, then stream introspection and ACL
    sluice::SLUICE,
    stream::xinfo::XINFO,
    acl::ACL,
];
