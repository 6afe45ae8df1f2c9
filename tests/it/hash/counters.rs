//! `HINCRBY` and `HINCRBYFLOAT`: integer and `long double` counters in fields, their error
//! texts, and what a failed update leaves.

use anyhow::Result;
use sluice_tests::TestServer;

use super::err;
use crate::replies::{b, expect, i};

#[test]
fn counters_in_fields() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let x65 = "x".repeat(65);
    expect(
        &mut raw,
        &[
            (&["HINCRBY", "c", "n", "5"], i(5)),
            (&["HINCRBY", "c", "n", "-10"], i(-5)),
            (
                &["HINCRBY", "c", "n", "x"],
                err("ERR value is not an integer or out of range"),
            ),
            (
                &["HINCRBY", "c", "n", "1.5"],
                err("ERR value is not an integer or out of range"),
            ),
            (
                &["HINCRBY", "c", "n", "9223372036854775807"],
                i(9223372036854775802),
            ),
            (
                &["HINCRBY", "c", "n", "9223372036854775807"],
                err("ERR increment or decrement would overflow"),
            ),
            (&["HINCRBY", "c", "n", "-9223372036854775803"], i(-1)),
            (&["HGET", "c", "n"], b("-1")),
            (
                &["HSET", "c", "s", "abc", "z", "01", "sp", " 1", "neg", "-0"],
                i(4),
            ),
            (
                &["HINCRBY", "c", "s", "1"],
                err("ERR hash value is not an integer"),
            ),
            (
                &["HINCRBY", "c", "z", "1"],
                err("ERR hash value is not an integer"),
            ),
            (
                &["HINCRBY", "c", "sp", "1"],
                err("ERR hash value is not an integer"),
            ),
            (
                &["HINCRBY", "c", "neg", "1"],
                err("ERR hash value is not an integer"),
            ),
            (&["HINCRBYFLOAT", "c", "f", "10.5"], b("10.5")),
            (&["HINCRBYFLOAT", "c", "f", "0.1"], b("10.6")),
            (&["HINCRBYFLOAT", "c", "f", "-0.6"], b("10")),
            (&["HINCRBYFLOAT", "c", "f", "2.25"], b("12.25")),
            (&["HINCRBYFLOAT", "c", "f", "-100"], b("-87.75")),
            (&["HINCRBYFLOAT", "c", "f", "1e3"], b("912.25")),
            (
                &["HINCRBYFLOAT", "c", "f", "x"],
                err("ERR value is not a valid float"),
            ),
            (
                &["HINCRBYFLOAT", "c", "f", "inf"],
                err("ERR value is NaN or Infinity"),
            ),
            (
                &["HINCRBYFLOAT", "c", "f", "nan"],
                err("ERR value is not a valid float"),
            ),
            (
                &["HINCRBYFLOAT", "c", "s", "1"],
                err("ERR hash value is not a float"),
            ),
            (&["HINCRBYFLOAT", "c", "n", "1.5"], b("0.5")),
            (&["HSET", "c", "inf", "inf"], i(1)),
            (
                &["HINCRBYFLOAT", "c", "inf", "1"],
                err("ERR increment would produce NaN or Infinity"),
            ),
            (&["HINCRBYFLOAT", "c", "ff", "3.0"], b("3")),
            (&["HINCRBYFLOAT", "c", "ff", "1.5e-5"], b("3.000015")),
            (
                &["HINCRBYFLOAT", "c", "e", "1e20"],
                b("100000000000000000000"),
            ),
            (&["HGET", "c", "e"], b("100000000000000000000")),
            // Sums in x87 long doubles, as Redis adds them: hexadecimal text, 20 digits of
            // integer, past f64's range.
            (&["HINCRBYFLOAT", "c", "hex", "0x10"], b("16")),
            (&["HINCRBYFLOAT", "c", "hex", "0x1.8p1"], b("19")),
            (&["HSET", "c", "max", "9223372036854775807"], i(1)),
            (
                &["HINCRBYFLOAT", "c", "max", "0.1"],
                b("9223372036854775807"),
            ),
            (&["HINCRBYFLOAT", "c", "tiny", "1e-400"], b("0")),
            (
                &["HINCRBYFLOAT", "c", "pi", "3.14159265358979323846"],
                b("3.14159265358979324"),
            ),
            (
                &["HINCRBYFLOAT", "c", "huge", "1e5000"],
                err("ERR value is not a valid float"),
            ),
            (&["HSET", "c", "huge", "1.1e4932"], i(1)),
            (
                &["HINCRBYFLOAT", "c", "huge", "1.1e4932"],
                err("ERR increment would produce NaN or Infinity"),
            ),
            // A failed update on a missing key leaves no key behind.
            (
                &["HINCRBYFLOAT", "nok", "f", "x"],
                err("ERR value is not a valid float"),
            ),
            (
                &["HINCRBY", "nok", "f", "x"],
                err("ERR value is not an integer or out of range"),
            ),
            (&["EXISTS", "nok"], i(0)),
            (&["HINCRBY", "nok2", "f", "1"], i(1)),
            // A long field makes the hash a table, as HSET does.
            (&["HINCRBY", "nok2", &x65, "1"], i(1)),
            (&["OBJECT", "ENCODING", "nok2"], b("hashtable")),
        ],
    )?;
    // Past f64's range, printed whole as `%.17Lf` prints it.
    raw.cmd(&["HSET", "c", "big", "1.7e308"])?;
    let sum = raw.cmd(&["HINCRBYFLOAT", "c", "big", "1e308"])?;
    assert!(
        sum.starts_with("$309\r\n2700000000000000000095679716924432415361836961249848892517")
            && sum.ends_with("9271253627546974917462710444305561821762946113243971584\r\n"),
        "{sum}"
    );
    Ok(())
}
