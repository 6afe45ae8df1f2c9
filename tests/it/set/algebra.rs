//! `SINTER`, `SUNION`, `SDIFF`: results, their order where Redis defines it, missing keys and
//! `WRONGTYPE`, each reply as Valkey 8.1 gives it (and redis-server 7.0.15, but for its order).

use anyhow::Result;
use sluice_tests::TestServer;

use super::WRONGTYPE;
use crate::replies::{a, b, expect, i};

fn set(members: &[&str]) -> String {
    a(&members.iter().map(|m| b(m)).collect::<Vec<_>>())
}

#[test]
fn intersections_unions_and_differences() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    raw.cmd(&["SET", "str", "v"])?;
    let wrong = WRONGTYPE.to_owned();
    expect(
        &mut raw,
        &[
            (&["SADD", "a", "1", "2", "3", "4", "x", "y"], i(6)),
            (&["SADD", "b", "2", "3", "x", "z"], i(4)),
            (&["SADD", "c", "3", "x", "q"], i(3)),
            // SINTER walks the smallest set.
            (&["SINTER", "a", "b", "c"], set(&["3", "x"])),
            (&["SINTER", "a", "b"], set(&["2", "3", "x"])),
            (&["SINTER", "b", "a"], set(&["2", "3", "x"])),
            (&["SINTER", "a", "a"], set(&["1", "2", "3", "4", "x", "y"])),
            (&["SINTER", "a", "nokey"], set(&[])),
            (&["SINTER", "nokey", "a"], set(&[])),
            // Every key is looked up first: a wrong type wins over a missing key.
            (&["SINTER", "nokey", "str"], wrong.clone()),
            (&["SINTER", "a", "str"], wrong.clone()),
            // SUNION lists members in the order it met them (ascending for intsets only).
            (
                &["SUNION", "a", "b", "c"],
                set(&["1", "2", "3", "4", "x", "y", "z", "q"]),
            ),
            (
                &["SUNION", "c", "b", "a"],
                set(&["3", "x", "q", "2", "z", "1", "4", "y"]),
            ),
            (
                &["SUNION", "nokey", "a"],
                set(&["1", "2", "3", "4", "x", "y"]),
            ),
            (&["SUNION", "nokey"], set(&[])),
            (&["SUNION", "a", "str"], wrong.clone()),
            (&["SDIFF", "a", "b"], set(&["1", "4", "y"])),
            (&["SDIFF", "a", "b", "c"], set(&["1", "4", "y"])),
            (&["SDIFF", "b", "a"], set(&["z"])),
            (&["SDIFF", "a", "a"], set(&[])),
            (&["SDIFF", "a", "nokey", "b"], set(&["1", "4", "y"])),
            (&["SDIFF", "nokey", "a"], set(&[])),
            (&["SDIFF", "a", "str"], wrong.clone()),
            (&["SDIFF", "str", "a"], wrong.clone()),
            (&["SDIFF", "nokey", "str"], wrong),
            (&["SADD", "n1", "3", "1", "2"], i(3)),
            (&["SADD", "n0", "9", "0"], i(2)),
            (&["SUNION", "n1", "n0"], set(&["0", "1", "2", "3", "9"])),
            (&["SDIFF", "n1", "n0", "nokey"], set(&["1", "2", "3"])),
            (&["SADD", "n2", "b", "2", "a", "1"], i(4)),
            (&["SUNION", "n1", "n2"], set(&["1", "2", "3", "b", "a"])),
            (&["SUNION", "n2", "n1"], set(&["b", "2", "a", "1", "3"])),
            (&["SDIFF", "n2", "n1"], set(&["b", "a"])),
            (&["SINTER", "n2", "n1"], set(&["1", "2"])),
            (&["SADD", "n3", "2", "z", "1", "y"], i(4)),
            (&["SDIFF", "n3", "n2"], set(&["z", "y"])),
            (&["SADD", "n4", "q", "3", "1"], i(3)),
            (&["SMEMBERS", "n4"], set(&["q", "3", "1"])),
            (&["SADD", "n5", "q"], i(1)),
            (&["SDIFF", "n4", "n5"], set(&["3", "1"])),
            (&["SDIFF", "n4", "n2"], set(&["q", "3"])),
        ],
    )
}
