//! Changing lists in place (`LSET`, `LINSERT`, `LREM`, `LTRIM`), what writes do to a list's
//! deadline, and the ACL categories list commands belong to.

use anyhow::Result;
use sluice_tests::TestServer;

use crate::replies::{NIL, WRONGTYPE, a, b, expect, i};

const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

fn bulks(items: &[&str]) -> String {
    a(&items.iter().map(|s| b(s)).collect::<Vec<_>>())
}

#[test]
fn lset_replaces_by_index() -> Result<()> {
    let server = TestServer::start()?;
    let out_of_range = "-ERR index out of range\r\n";
    expect(
        &mut server.raw()?,
        &[
            (&["LSET", "nokey", "0", "v"], "-ERR no such key\r\n".into()),
            // The key is looked up before the index is read.
            (&["LSET", "nokey", "x", "v"], "-ERR no such key\r\n".into()),
            (&["RPUSH", "l", "a", "b", "c"], i(3)),
            (&["LSET", "l", "0", "A"], "+OK\r\n".into()),
            (&["LSET", "l", "-1", "C"], "+OK\r\n".into()),
            (&["LSET", "l", "1", ""], "+OK\r\n".into()),
            (&["LSET", "l", "3", "v"], out_of_range.into()),
            (&["LSET", "l", "-4", "v"], out_of_range.into()),
            // Redis 7.0's answer: 7.2 truncates the index to 32 bits and sets element 0.
            (
                &["LSET", "l", "-9223372036854775808", "v"],
                out_of_range.into(),
            ),
            (&["LSET", "l", "4294967296", "v"], out_of_range.into()),
            (&["LSET", "l", "x", "v"], NOT_INT.into()),
            (&["LRANGE", "l", "0", "-1"], bulks(&["A", "", "C"])),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LSET", "s", "0", "v"], WRONGTYPE.into()),
            (&["LSET", "s", "x", "v"], WRONGTYPE.into()),
        ],
    )
}

#[test]
fn linsert_places_beside_the_first_pivot() -> Result<()> {
    let server = TestServer::start()?;
    let syntax = "-ERR syntax error\r\n";
    expect(
        &mut server.raw()?,
        &[
            (&["LINSERT", "nokey", "BEFORE", "a", "b"], i(0)),
            // The position is read before the key is looked up.
            (&["LINSERT", "nokey", "MIDDLE", "a", "b"], syntax.into()),
            (&["RPUSH", "l", "a", "b", "c", "b"], i(4)),
            (&["LINSERT", "l", "BEFORE", "b", "X"], i(5)),
            (&["LINSERT", "l", "after", "b", "Y"], i(6)),
            (&["LINSERT", "l", "AFTER", "c", "Z"], i(7)),
            (&["LINSERT", "l", "Before", "a", "W"], i(8)),
            (&["LINSERT", "l", "BEFORE", "zz", "v"], i(-1)),
            (
                &["LRANGE", "l", "0", "-1"],
                bulks(&["W", "a", "X", "b", "Y", "c", "Z", "b"]),
            ),
            (
                &["LINSERT", "l", "BEFORE", "a"],
                "-ERR wrong number of arguments for 'linsert' command\r\n".into(),
            ),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LINSERT", "s", "MIDDLE", "a", "b"], syntax.into()),
            (&["LINSERT", "s", "BEFORE", "a", "b"], WRONGTYPE.into()),
        ],
    )
}

#[test]
fn lrem_removes_from_either_end() -> Result<()> {
    let server = TestServer::start()?;
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b", "a", "c", "a", "d", "a"], i(7)),
            (&["LREM", "l", "2", "a"], i(2)),
            (&["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a", "d", "a"])),
            (&["LREM", "l", "-1", "a"], i(1)),
            (&["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "a", "d"])),
            (&["LREM", "l", "0", "a"], i(1)),
            (&["LREM", "l", "0", "zz"], i(0)),
            (&["LREM", "l", "x", "a"], NOT_INT.into()),
            (&["LREM", "nokey", "x", "a"], NOT_INT.into()),
            (&["LREM", "nokey", "1", "a"], i(0)),
            // Redis 7.2 refuses a count whose opposite does not exist (7.0 answers 0).
            (
                &["LREM", "l", "-9223372036854775808", "a"],
                "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n".into(),
            ),
            (&["LREM", "l", "0", "b"], i(1)),
            (&["LREM", "l", "0", "c"], i(1)),
            (&["LREM", "l", "0", "d"], i(1)),
            (&["EXISTS", "l"], i(0)),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LREM", "s", "0", "a"], WRONGTYPE.into()),
        ],
    )
}

#[test]
fn ltrim_keeps_a_range_and_an_empty_one_deletes_the_key() -> Result<()> {
    let server = TestServer::start()?;
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b", "c", "d", "e"], i(5)),
            (&["LTRIM", "l", "1", "-2"], "+OK\r\n".into()),
            (&["LRANGE", "l", "0", "-1"], bulks(&["b", "c", "d"])),
            (&["LTRIM", "l", "0", "100"], "+OK\r\n".into()),
            (&["LLEN", "l"], i(3)),
            (
                &["LTRIM", "l", "-9223372036854775808", "9223372036854775807"],
                "+OK\r\n".into(),
            ),
            (&["LLEN", "l"], i(3)),
            (&["LTRIM", "l", "-1", "-1"], "+OK\r\n".into()),
            (&["LRANGE", "l", "0", "-1"], bulks(&["d"])),
            (&["LTRIM", "l", "5", "1"], "+OK\r\n".into()),
            (&["EXISTS", "l"], i(0)),
            (&["LTRIM", "nokey", "0", "1"], "+OK\r\n".into()),
            (&["LTRIM", "nokey", "a", "b"], NOT_INT.into()),
            (&["RPUSH", "l", "a", "b"], i(2)),
            (&["LTRIM", "l", "2", "1"], "+OK\r\n".into()),
            (&["EXISTS", "l"], i(0)),
            (&["SET", "s", "v"], "+OK\r\n".into()),
            (&["LTRIM", "s", "0", "1"], WRONGTYPE.into()),
        ],
    )
}

#[test]
fn writes_keep_a_lists_deadline_and_an_expired_list_is_gone() -> Result<()> {
    let (server, clock) = crate::replies::clocked()?;
    expect(
        &mut server.raw()?,
        &[
            (&["RPUSH", "l", "a", "b"], i(2)),
            (&["PEXPIRE", "l", "100000"], i(1)),
            (&["RPUSH", "l", "c"], i(3)),
            (&["LSET", "l", "0", "z"], "+OK\r\n".into()),
            (&["LTRIM", "l", "0", "1"], "+OK\r\n".into()),
            (&["PTTL", "l"], i(100_000)),
            (&["LMOVE", "l", "m", "LEFT", "LEFT"], b("z")),
            (&["PTTL", "m"], i(-1)),
            // Emptied and pushed again: a new list, without the old deadline.
            (&["LPOP", "l", "3"], bulks(&["b"])),
            (&["RPUSH", "l", "a"], i(1)),
            (&["PTTL", "l"], i(-1)),
            (&["PEXPIRE", "l", "50"], i(1)),
        ],
    )?;
    clock.advance(51);
    expect(
        &mut server.raw()?,
        &[
            (&["LLEN", "l"], i(0)),
            (&["LPOP", "l"], NIL.into()),
            (&["BLPOP", "l", "0.01"], crate::replies::NIL_ARRAY.into()),
            (&["RPUSHX", "l", "x"], i(0)),
        ],
    )
}

#[test]
fn acl_categories_cover_list_commands() -> Result<()> {
    let server = TestServer::start()?;
    let mut admin = server.raw()?;
    let denied = |command: &str| {
        format!("-NOPERM User u has no permissions to run the '{command}' command\r\n")
    };
    for (rules, allowed, refused) in [
        (
            "-@list",
            &["GET x"][..],
            &[
                "LPUSH l a",
                "LRANGE l 0 -1",
                "BLPOP l 0",
                "LMOVE a b LEFT LEFT",
            ][..],
        ),
        (
            "-@blocking",
            &["LPUSH l a", "LPOP l"][..],
            &["BLPOP l 0", "BRPOP l 0", "BLMOVE l m LEFT LEFT 0"][..],
        ),
        (
            "-@write",
            &["LRANGE l 0 -1", "LLEN l", "LINDEX l 0", "LPOS l a"][..],
            &[
                "LPUSH l a",
                "LSET l 0 a",
                "LMOVE a b LEFT LEFT",
                "BLPOP l 1",
                "LTRIM l 0 1",
            ][..],
        ),
        (
            "-@slow",
            &[
                "LPUSH l a",
                "LLEN l",
                "LPOP l",
                "RPUSHX l a",
                "LPUSHX l a",
                "RPOP l",
            ][..],
            &[
                "LRANGE l 0 -1",
                "LINSERT l BEFORE a b",
                "LMOVE a b LEFT LEFT",
                "LPOS l a",
                "LINDEX l 0",
                "LSET l 0 a",
                "LREM l 0 a",
                "LTRIM l 0 1",
                "BLPOP l 1",
            ][..],
        ),
        (
            "-@fast",
            &["LRANGE l 0 -1", "LINDEX l 0", "LTRIM l 0 1"][..],
            &["LPUSH l a", "LLEN l", "LPOP l", "RPUSHX l a", "RPOP l"][..],
        ),
    ] {
        admin.cmd(&[
            "ACL", "SETUSER", "u", "reset", "on", "nopass", "~*", "+@all", rules,
        ])?;
        let mut user = server.raw()?;
        assert_eq!(user.cmd(&["AUTH", "u", "x"])?, "+OK\r\n");
        for command in allowed {
            let args: Vec<&str> = command.split(' ').collect();
            let got = user.cmd(&args)?;
            assert!(!got.starts_with("-NOPERM"), "{rules} {command}: {got:?}");
        }
        for command in refused {
            let args: Vec<&str> = command.split(' ').collect();
            let name = args[0].to_ascii_lowercase();
            assert_eq!(user.cmd(&args)?, denied(&name), "{rules} {command}");
        }
    }
    // Key patterns apply to both of LMOVE's keys, and to every key BLPOP names.
    admin.cmd(&[
        "ACL", "SETUSER", "u", "reset", "on", "nopass", "~a", "+@all",
    ])?;
    let mut user = server.raw()?;
    user.cmd(&["AUTH", "u", "x"])?;
    let no_key = "-NOPERM No permissions to access a key\r\n";
    expect(
        &mut user,
        &[
            (&["LMOVE", "a", "b", "LEFT", "LEFT"], no_key.into()),
            (&["LMOVE", "b", "a", "LEFT", "LEFT"], no_key.into()),
            (&["BLPOP", "a", "b", "0"], no_key.into()),
            (&["RPUSH", "a", "x"], i(1)),
            (&["BLPOP", "a", "0"], bulks(&["a", "x"])),
        ],
    )
}
