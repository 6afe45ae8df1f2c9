//! Hostile input, end to end: negative and huge counts, IDs at and past the edges, non-UTF-8
//! names everywhere, truncated and oddly framed requests, a pipeline split byte by byte.
//!
//! The scripts below are request/reply transcripts recorded from the real `redis-server` 7
//! (7.0.15) and replayed here byte for byte: one request per line, `args => reply`, with
//! `\r`, `\n`, `\\` and `\xHH` escapes and `""` for an empty argument.

use anyhow::{Context, Result, bail};
use sluice_tests::{RawClient, TestServer, encode_command};

/// The stream the count scripts start from: four entries, group `g` at `0`, consumer `c`
/// holding `1-1` and `1-2`.
const SETUP: &str = r#"XADD s 1-1 f v => $3\r\n1-1\r\n
XADD s 1-2 f v => $3\r\n1-2\r\n
XADD s 1-3 f v => $3\r\n1-3\r\n
XADD s 2-1 f v => $3\r\n2-1\r\n
XGROUP CREATE s g 0 => +OK\r\n
XREADGROUP GROUP g c COUNT 2 STREAMS s > => *1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
"#;

/// Counts, timeouts, thresholds and IDs out of range in every stream command that takes one.
/// Only the last few lines change the stream: all but those are refused or read. Note Redis's
/// quirk kept here: the largest ID given to `XREADGROUP` means `>` (it is how `>` is stored).
const EDGES: &str = r#"XRANGE s - + COUNT -1 => *-1\r\n
XRANGE s - + COUNT 0 => *-1\r\n
XRANGE s - + COUNT 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XRANGE s - + COUNT -9223372036854775808 => *-1\r\n
XRANGE s - + COUNT 9223372036854775807 => *4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREVRANGE s + - COUNT -1 => *-1\r\n
XREVRANGE s + - COUNT 0 => *-1\r\n
XREVRANGE s + - COUNT 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XREVRANGE s + - COUNT 1 => *1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREAD COUNT -5 STREAMS s 1-2 => *1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREAD COUNT 0 STREAMS s 1-2 => *1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREAD COUNT 18446744073709551616 STREAMS s 0 => -ERR value is not an integer or out of range\r\n
XREAD COUNT -9223372036854775808 STREAMS s 1-3 => *1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREAD BLOCK -1 STREAMS s 0 => -ERR timeout is negative\r\n
XREAD BLOCK 18446744073709551616 STREAMS s 0 => -ERR timeout is not an integer or out of range\r\n
XREAD COUNT 1 BLOCK 9223372036854775807 STREAMS s 0 => *1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREAD STREAMS s 18446744073709551615-18446744073709551615 => *-1\r\n
XREADGROUP GROUP g c COUNT -1 STREAMS s 0 => *1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREADGROUP GROUP g c COUNT 0 STREAMS s 0 => *1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XREADGROUP GROUP g c COUNT 18446744073709551616 STREAMS s > => -ERR value is not an integer or out of range\r\n
XREADGROUP GROUP g c BLOCK -1 STREAMS s > => -ERR timeout is negative\r\n
XREADGROUP GROUP g c BLOCK 18446744073709551616 STREAMS s > => -ERR timeout is not an integer or out of range\r\n
XREADGROUP GROUP g c COUNT 1 STREAMS s 18446744073709551615-18446744073709551615 => *1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XPENDING s g - + -1 => *0\r\n
XPENDING s g - + 0 => *0\r\n
XPENDING s g - + 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XPENDING s g - + -9223372036854775808 => *0\r\n
XPENDING s g IDLE 18446744073709551616 - + 10 => -ERR value is not an integer or out of range\r\n
XPENDING s g IDLE 9223372036854775807 - + 10 => *0\r\n
XPENDING s g IDLE -1 - + 0 => *0\r\n
XAUTOCLAIM s g c2 0 0-0 COUNT 0 => -ERR COUNT must be > 0\r\n
XAUTOCLAIM s g c2 0 0-0 COUNT -1 => -ERR COUNT must be > 0\r\n
XAUTOCLAIM s g c2 0 0-0 COUNT 18446744073709551616 => -ERR COUNT must be > 0\r\n
XAUTOCLAIM s g c2 0 0-0 COUNT 9223372036854775807 => -ERR COUNT must be > 0\r\n
XAUTOCLAIM s g c2 18446744073709551616 0-0 => -ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n
XAUTOCLAIM s g c2 0 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XCLAIM s g c3 18446744073709551616 1-1 => -ERR Invalid min-idle-time argument for XCLAIM\r\n
XCLAIM s g c3 0 1-1 RETRYCOUNT 18446744073709551616 => -ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n
XCLAIM s g c3 0 1-1 IDLE 18446744073709551616 => -ERR Invalid IDLE option argument for XCLAIM\r\n
XCLAIM s g c3 0 1-1 TIME 18446744073709551616 => -ERR Invalid TIME option argument for XCLAIM\r\n
XCLAIM s g c3 0 99999999999999999999-0 => -ERR Unrecognized XCLAIM option '99999999999999999999-0'\r\n
XCLAIM s g c3 0 1-1 LASTID 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XTRIM s MAXLEN -1 => -ERR The MAXLEN argument must be >= 0.\r\n
XTRIM s MAXLEN ~ -5 => -ERR The MAXLEN argument must be >= 0.\r\n
XTRIM s MINID -1 => -ERR Invalid stream ID specified as stream command argument\r\n
XTRIM s MINID -0 => -ERR Invalid stream ID specified as stream command argument\r\n
XTRIM s MINID 1- => -ERR Invalid stream ID specified as stream command argument\r\n
XTRIM s MINID 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XTRIM s MAXLEN 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XTRIM s MAXLEN ~ 2 LIMIT -1 => -ERR The LIMIT argument must be >= 0.\r\n
XTRIM s MAXLEN ~ 2 LIMIT 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XTRIM s MAXLEN 2 LIMIT 10 => -ERR syntax error, LIMIT cannot be used without the special ~ option\r\n
XADD s MAXLEN -1 * f v => -ERR The MAXLEN argument must be >= 0.\r\n
XADD s MAXLEN ~ 18446744073709551616 * f v => -ERR value is not an integer or out of range\r\n
XADD s MAXLEN ~ 5 LIMIT -1 * f v => -ERR The LIMIT argument must be >= 0.\r\n
XADD s MAXLEN ~ 5 LIMIT 18446744073709551616 * f v => -ERR value is not an integer or out of range\r\n
XADD s MINID -1 * f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s MINID ~ 18446744073709551616 * f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s -0 f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s 1- f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s 99999999999999999999-0 f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s 18446744073709551616-0 f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s 1-18446744073709551616 f v => -ERR Invalid stream ID specified as stream command argument\r\n
XADD s 0-0 f v => -ERR The ID specified in XADD must be greater than 0-0\r\n
XADD s 2-1 f v => -ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n
XADD s - f v => -ERR Invalid stream ID specified as stream command argument\r\n
XRANGE s -0 + => -ERR Invalid stream ID specified as stream command argument\r\n
XRANGE s 1- + => -ERR Invalid stream ID specified as stream command argument\r\n
XRANGE s 99999999999999999999-0 + => -ERR Invalid stream ID specified as stream command argument\r\n
XRANGE s (18446744073709551615-18446744073709551615 + => -ERR invalid start ID for the interval\r\n
XRANGE s - (0-0 => -ERR invalid end ID for the interval\r\n
XRANGE s 1 1 => *3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XRANGE s 1-0 1-18446744073709551615 => *3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n
XDEL s 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XDEL s -0 => -ERR Invalid stream ID specified as stream command argument\r\n
XACK s g -0 => -ERR Invalid stream ID specified as stream command argument\r\n
XACK s g 1- => -ERR Invalid stream ID specified as stream command argument\r\n
XSETID s 9-0 ENTRIESADDED -1 => -ERR entries_added must be positive\r\n
XSETID s 9-0 ENTRIESADDED 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XSETID s 1-0 => -ERR The ID specified in XSETID is smaller than the target stream top item\r\n
XSETID s 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XSETID s 9-0 ENTRIESADDED 4 MAXDELETEDID 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XGROUP SETID s g 0 ENTRIESREAD -2 => -ERR value for ENTRIESREAD must be positive or -1\r\n
XGROUP SETID s g 0 ENTRIESREAD 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XGROUP CREATE s g2 0 ENTRIESREAD -5 => -ERR value for ENTRIESREAD must be positive or -1\r\n
XGROUP SETID s g 99999999999999999999-0 => -ERR Invalid stream ID specified as stream command argument\r\n
XPENDING s g => *4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n1-3\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n
XLEN s => :4\r\n"#;

/// Huge thresholds that are legal, trimming everything, and a stream whose last ID is the
/// largest there is.
const LIMITS: &str = r#"XADD s MAXLEN ~ 9223372036854775807 3-1 f v => $3\r\n3-1\r\n
XADD s MAXLEN = 9223372036854775807 3-2 f v => $3\r\n3-2\r\n
XADD s MAXLEN ~ 1 LIMIT 0 3-3 f v => $3\r\n3-3\r\n
XLEN s => :7\r\n
XTRIM s MAXLEN 9223372036854775807 => :0\r\n
XTRIM s MAXLEN ~ 0 LIMIT 9223372036854775807 => :7\r\n
XLEN s => :0\r\n
XPENDING s g => *4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n2\r\n
XTRIM s MINID 18446744073709551615-18446744073709551615 => :0\r\n
XLEN s => :0\r\n
XCLAIM s g c 0 1-1 RETRYCOUNT 9223372036854775807 JUSTID => *0\r\n
XAUTOCLAIM s g c 0 0-0 COUNT 1000 => *3\r\n$3\r\n0-0\r\n*0\r\n*1\r\n$3\r\n1-2\r\n
XPENDING s g => *4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n
XSETID s 18446744073709551615-18446744073709551615 => +OK\r\n
XADD s * f v => -ERR The stream has exhausted the last possible ID, unable to add more items\r\n
XADD s 18446744073709551615-* f v => -ERR The stream has exhausted the last possible ID, unable to add more items\r\n
XSETID s 18446744073709551615-18446744073709551615 ENTRIESADDED 9223372036854775807 MAXDELETEDID 18446744073709551615-18446744073709551615 => +OK\r\n
XINFO GROUPS s => *1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-2\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:9223372036854775805\r\n
XGROUP SETID s g 0 ENTRIESREAD 9223372036854775807 => +OK\r\n
XINFO GROUPS s => *1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:0\r\n
XGROUP CREATE s g3 $ ENTRIESREAD -1 => +OK\r\n
XINFO GROUPS s => *2\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"#;

/// Keys, fields, values, group and consumer names that are not UTF-8 (NUL, CR, LF, bytes
/// over 0x7f) come back exactly as sent.
const NON_UTF8: &str = r#"XADD k\xff\x00\r\n 1-1 f\xfe \x00\xff\x80 plain "" => $3\r\n1-1\r\n
XADD k\xff\x00\r\n 1-2 \x00\xff\x80 f\xfe => $3\r\n1-2\r\n
XADD k\xff\x00\r\n NOMKSTREAM MAXLEN 5 1-3 \xff \xff => $3\r\n1-3\r\n
XRANGE k\xff\x00\r\n - + => *3\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$2\r\nf\xfe\r\n$3\r\n\x00\xff\x80\r\n$5\r\nplain\r\n$0\r\n\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$3\r\n\x00\xff\x80\r\n$2\r\nf\xfe\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\n\xff\r\n$1\r\n\xff\r\n
XREVRANGE k\xff\x00\r\n + - COUNT 1 => *1\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\n\xff\r\n$1\r\n\xff\r\n
XREAD COUNT 1 STREAMS k\xff\x00\r\n 0 => *1\r\n*2\r\n$5\r\nk\xff\x00\r\n\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$2\r\nf\xfe\r\n$3\r\n\x00\xff\x80\r\n$5\r\nplain\r\n$0\r\n\r\n
XGROUP CREATE k\xff\x00\r\n g\xc3( 0 => +OK\r\n
XGROUP CREATECONSUMER k\xff\x00\r\n g\xc3( \xf0(\x8c( => :1\r\n
XREADGROUP GROUP g\xc3( c\xa0\xa1 COUNT 2 STREAMS k\xff\x00\r\n > => *1\r\n*2\r\n$5\r\nk\xff\x00\r\n\r\n*2\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$2\r\nf\xfe\r\n$3\r\n\x00\xff\x80\r\n$5\r\nplain\r\n$0\r\n\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$3\r\n\x00\xff\x80\r\n$2\r\nf\xfe\r\n
XPENDING k\xff\x00\r\n g\xc3( => *4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*1\r\n*2\r\n$3\r\nc\xa0\xa1\r\n$1\r\n2\r\n
XPENDING k\xff\x00\r\n g\xc3( IDLE 9223372036854775807 - + 10 c\xa0\xa1 => *0\r\n
XCLAIM k\xff\x00\r\n g\xc3( \xf0(\x8c( 0 1-1 JUSTID => *1\r\n$3\r\n1-1\r\n
XPENDING k\xff\x00\r\n g\xc3( => *4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*2\r\n*2\r\n$3\r\nc\xa0\xa1\r\n$1\r\n1\r\n*2\r\n$4\r\n\xf0(\x8c(\r\n$1\r\n1\r\n
XAUTOCLAIM k\xff\x00\r\n g\xc3( c\xa0\xa1 0 0 COUNT 1 JUSTID => *3\r\n$3\r\n1-2\r\n*1\r\n$3\r\n1-1\r\n*0\r\n
XPENDING k\xff\x00\r\n g\xc3( => *4\r\n:2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*1\r\n*2\r\n$3\r\nc\xa0\xa1\r\n$1\r\n2\r\n
XACK k\xff\x00\r\n g\xc3( 1-1 1-2 => :2\r\n
XGROUP DELCONSUMER k\xff\x00\r\n g\xc3( \xf0(\x8c( => :0\r\n
XGROUP DELCONSUMER k\xff\x00\r\n g\xc3( nobody\xff => :0\r\n
XINFO GROUPS k\xff\x00\r\n => *1\r\n*12\r\n$4\r\nname\r\n$3\r\ng\xc3(\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-2\r\n$12\r\nentries-read\r\n:2\r\n$3\r\nlag\r\n:1\r\n
RENAME k\xff\x00\r\n \xfe\xed => +OK\r\n
KEYS * => *1\r\n$2\r\n\xfe\xed\r\n
SCAN 0 MATCH \xfe* => *2\r\n$1\r\n0\r\n*1\r\n$2\r\n\xfe\xed\r\n
TYPE \xfe\xed => +stream\r\n
EXISTS k\xff\x00\r\n => :0\r\n
XGROUP DESTROY \xfe\xed g\xc3( => :1\r\n
DEL \xfe\xed => :1\r\n"#;

/// `XINFO STREAM`'s options: the key is looked up first, and a bad option is the subcommand
/// syntax error naming `STREAM` as the client spelled it.
const XINFO_OPTIONS: &str = r#"XINFO STREAM nokey COUNT 1 => -ERR no such key\r\n
xinfo stream s count 1 => -ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.\r\n
XINFO Stream s FULL COUNT => -ERR unknown subcommand or wrong number of arguments for 'Stream'. Try XINFO HELP.\r\n
xinfo stream s full count -1 foo => -ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.\r\n
XINFO STREAM s FULL COUNT abc => -ERR value is not an integer or out of range\r\n
XINFO STREAM s FULL COUNT 18446744073709551616 => -ERR value is not an integer or out of range\r\n
XINFO STREAM s FULL LIMIT 1 => -ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n
XINFO STREAM s SUMMARY => -ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"#;

/// `\r`, `\n`, `\\`, `\xHH` escapes.
fn unescape(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b'\\') => out.push(b'\\'),
            Some(b'x') => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let hex = std::str::from_utf8(&hex)?;
                out.push(u8::from_str_radix(hex, 16).with_context(|| format!("\\x{hex}"))?);
            }
            other => bail!("bad escape {other:?} in {text:?}"),
        }
    }
    Ok(out)
}

/// Sends each request of `script` and checks its reply, byte for byte.
fn replay(raw: &mut RawClient, script: &str) -> Result<()> {
    for (n, line) in script.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some((request, want)) = line.split_once(" => ") else {
            bail!("line {n}: no ` => ` in {line:?}");
        };
        let args = request
            .split(' ')
            .map(|a| {
                if a == "\"\"" {
                    Ok(Vec::new())
                } else {
                    unescape(a)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        raw.send_cmd(&args)?;
        let got = raw.read_reply_bytes()?;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&unescape(want)?),
            "line {n}: {request}"
        );
        assert_eq!(got, unescape(want)?, "line {n}: {request} (bytes)");
    }
    Ok(())
}

#[test]
fn counts_timeouts_and_ids_out_of_range_in_every_stream_command() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    replay(&mut raw, SETUP)?;
    replay(&mut raw, EDGES)
}

#[test]
fn huge_legal_thresholds_and_the_last_possible_id() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    replay(&mut raw, SETUP)?;
    replay(&mut raw, LIMITS)
}

#[test]
fn non_utf8_names_round_trip_in_every_stream_command() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    replay(&mut raw, NON_UTF8)
}

/// Sends `bytes` on a fresh connection and returns everything the server wrote before it
/// closed the connection.
fn reply_then_close(server: &TestServer, bytes: &[u8]) -> Result<String> {
    let mut raw = server.raw()?;
    raw.send(bytes)?;
    raw.read_to_close()
}

#[test]
fn odd_and_oversized_headers() -> Result<()> {
    let server = TestServer::start()?;
    let refused: &[(&[u8], &str)] = &[
        (b"*9223372036854775808\r\n", "invalid multibulk length"),
        (b"* 1\r\n", "invalid multibulk length"),
        (b"*01\r\n", "invalid multibulk length"),
        (b"*1 \r\n", "invalid multibulk length"),
        (b"*\r\n", "invalid multibulk length"),
        (b"*1\r\n$-0\r\n", "invalid bulk length"),
        (b"*1\r\n$04\r\nPING\r\n", "invalid bulk length"),
        (b"*1\r\n$+4\r\nPING\r\n", "invalid bulk length"),
        (b"*1\r\n$4 \r\nPING\r\n", "invalid bulk length"),
        (b"*1\r\n$\r\n", "invalid bulk length"),
        // Over the default `proto-max-bulk-len` (512 MB), from the header alone.
        (b"*1\r\n$2147483648\r\n", "invalid bulk length"),
        (b"*1\r\n*1\r\n", "expected '$', got '*'"),
    ];
    for (bytes, error) in refused {
        assert_eq!(
            reply_then_close(&server, bytes)?,
            format!("-ERR Protocol error: {error}\r\n"),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    // Not errors, as in Redis: any count below 1 is an empty request, blank lines are
    // skipped, and the two bytes after a bulk string are not checked to be CRLF.
    let accepted: &[(&[u8], &str)] = &[
        (b"*-2\r\nPING\r\n", "+PONG\r\n"),
        (b"*-9223372036854775808\r\nPING\r\n", "+PONG\r\n"),
        (b"\r\n\r\n\nPING\r\n", "+PONG\r\n"),
        (b"*1\r\n$4\r\nPINGxx", "+PONG\r\n"),
        (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "$0\r\n\r\n"),
    ];
    for (bytes, reply) in accepted {
        let mut raw = server.raw()?;
        raw.send(bytes)?;
        assert_eq!(
            raw.read_reply()?,
            *reply,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
        assert_eq!(raw.cmd(&["PING"])?, "+PONG\r\n");
    }
    Ok(())
}

#[test]
fn a_truncated_request_waits_for_its_end_at_every_cut() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let value: &[u8] = b"v\r\n\x00\xff$3\r\n";
    let requests = [
        encode_command(&[b"XADD", b"s\xfe", b"*", b"f\r\n", value]),
        encode_command(&[b"XLEN", b"s\xfe"]),
        b"ECHO \"a\\xffb\\r\\n\"\r\n".to_vec(),
    ];
    let mut added = 0;
    for request in &requests {
        for cut in 1..request.len() {
            // The first part alone gets no reply (else the reply read below would be it);
            // the rest completes the one request.
            raw.send(&request[..cut])?;
            raw.send(&request[cut..])?;
            let reply = raw.read_reply_bytes()?;
            match &request[..4] {
                b"*5\r\n" => {
                    added += 1;
                    assert!(reply.starts_with(b"$"), "{reply:?}");
                }
                b"*2\r\n" => assert_eq!(reply, format!(":{added}\r\n").into_bytes()),
                _ => assert_eq!(reply, b"$5\r\na\xffb\r\n\r\n"),
            }
        }
    }
    let mut check = server.raw()?;
    check.send_cmd(&[b"XRANGE", b"s\xfe", b"-", b"+", b"COUNT", b"1"])?;
    let reply = check.read_reply_bytes()?;
    assert!(reply.ends_with(b"*2\r\n$3\r\nf\r\n\r\n$9\r\nv\r\n\x00\xff$3\r\n\r\n"));
    Ok(())
}

#[test]
fn a_mixed_pipeline_sent_one_byte_at_a_time() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    let pipeline = [
        encode_command(&[b"XADD", b"k\xff", b"1-1", b"\x00", b"\xff\r\n"]),
        b"*0\r\n*-1\r\n\r\n".to_vec(),
        b"XLEN k\xff\r\n".to_vec(),
        encode_command(&[b"XRANGE", b"k\xff", b"-", b"+"]),
        b"*1\r\n$4\r\nPINGxx".to_vec(),
    ]
    .concat();
    for byte in &pipeline {
        raw.send(std::slice::from_ref(byte))?;
    }
    let replies: &[&[u8]] = &[
        b"$3\r\n1-1\r\n",
        b":1\r\n",
        b"*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\n\x00\r\n$3\r\n\xff\r\n\r\n",
        b"+PONG\r\n",
    ];
    for want in replies {
        assert_eq!(raw.read_reply_bytes()?, *want);
    }
    Ok(())
}

#[test]
fn xinfo_stream_options_at_the_edges() -> Result<()> {
    let server = TestServer::start()?;
    let mut raw = server.raw()?;
    for i in 1..=12 {
        raw.cmd(&["XADD", "s", &format!("{i}-1"), "f", "v"])?;
    }
    replay(&mut raw, XINFO_OPTIONS)?;
    // A negative COUNT means the default, 10 entries; 0 means all of them.
    let entry = "\r\n$1\r\nf\r\n$1\r\nv\r\n";
    for (count, shown) in [
        ("-1", 10),
        ("-9223372036854775808", 10),
        ("0", 12),
        ("3", 3),
    ] {
        let reply = raw.cmd(&["XINFO", "STREAM", "s", "FULL", "COUNT", count])?;
        assert_eq!(reply.matches(entry).count(), shown, "COUNT {count}");
    }
    Ok(())
}
