//! Strings (`RDB_TYPE_STRING`): one RDB string, in any of its encodings when read (plain,
//! INT8/16/32, LZF), plain or integer-encoded when written, as Redis would write it.

use crate::RdbError;
use crate::RdbValue;
use crate::payload::rdb_type;
use crate::reader::Reader;
use crate::writer::put_string;

pub(crate) fn read(r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    Ok(RdbValue::String(
        r.string("string value truncated")?.into_owned(),
    ))
}

pub(crate) fn write(s: &[u8], out: &mut Vec<u8>) {
    out.push(rdb_type::STRING);
    put_string(out, s);
}
