//! The checksum that ends every DUMP payload: Redis's CRC-64 "Jones" (`crc64.c`: polynomial
//! `0xad93d23594c935a9`, reflected, initial value 0, no final xor), computed over everything
//! before it and stored little-endian.
//!
//! The `crc` crate carries this exact algorithm as `CRC_64_REDIS` (its catalogue check value,
//! `0xe9c6d914c4b8d9ca` for `"123456789"`, is the one Redis's own test asserts). The 16-table
//! variant checksums a 1 MB payload in well under a millisecond.

use crc::{CRC_64_REDIS, Crc, Table};

const CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Redis's `crc64(0, bytes, len)`.
pub(crate) fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_check_value() {
        // crc64.c's self-test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(b""), 0);
    }
}
