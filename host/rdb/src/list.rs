//! Lists: read from every encoding Redis has written (`RDB_TYPE_LIST` of plain strings,
//! `RDB_TYPE_LIST_ZIPLIST`, `RDB_TYPE_LIST_QUICKLIST` of ziplist nodes, and Redis 7's
//! `RDB_TYPE_LIST_QUICKLIST_2` of listpack and plain nodes); written as `QUICKLIST_2`.
//!
//! A `QUICKLIST_2` node is a container kind (1 = plain: one element stored as-is, 2 = packed:
//! a listpack) and a blob. Written nodes follow Redis's defaults: listpacks of up to 8 KiB
//! (`list-max-listpack-size -2`), and a plain node for an element of 1 GiB or more
//! (`packed_threshold`). Redis skips empty packed nodes when loading and refuses a list that
//! ends up empty; so does this crate.

use crate::listpack::{self, Element, ListpackWriter};
use crate::payload::rdb_type;
use crate::reader::Reader;
use crate::writer::{put_len, put_string};
use crate::ziplist;
use crate::{RdbError, RdbValue};

const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Byte budget of one listpack node (`list-max-listpack-size -2`).
const NODE_BYTES: usize = 8 * 1024;
/// What Redis adds to an element's size when checking the budget (`SIZE_ESTIMATE_OVERHEAD`).
const ELEMENT_OVERHEAD: usize = 8;
/// Elements this large get a plain node (`packed_threshold`, 1 GiB by default).
const PLAIN_THRESHOLD: usize = 1 << 30;

pub(crate) fn read(ty: u8, r: &mut Reader<'_>) -> Result<RdbValue, RdbError> {
    let start = r.pos();
    let mut items = Vec::new();
    match ty {
        rdb_type::LIST => {
            let n = r.count(1, "list length exceeds the payload")?;
            items.reserve(n);
            for _ in 0..n {
                items.push(r.string("list element truncated")?.into_owned());
            }
        }
        rdb_type::LIST_ZIPLIST => {
            let (blob, at) = r.blob("list ziplist truncated")?;
            extend(&mut items, ziplist::parse(&blob).map_err(|w| at.bad(w))?);
        }
        rdb_type::LIST_QUICKLIST => {
            let n = r.count(2, "quicklist node count exceeds the payload")?;
            for _ in 0..n {
                let (blob, at) = r.blob("quicklist node truncated")?;
                if blob.is_empty() {
                    return Err(at.bad("empty quicklist node"));
                }
                extend(&mut items, ziplist::parse(&blob).map_err(|w| at.bad(w))?);
            }
        }
        _ => {
            let n = r.count(3, "quicklist node count exceeds the payload")?;
            for _ in 0..n {
                let container = r.len("quicklist node container truncated")?;
                let (blob, at) = r.blob("quicklist node truncated")?;
                if blob.is_empty() {
                    return Err(at.bad("empty quicklist node"));
                }
                match container {
                    CONTAINER_PLAIN => items.push(blob.into_owned()),
                    CONTAINER_PACKED => {
                        extend(&mut items, listpack::parse(&blob).map_err(|w| at.bad(w))?)
                    }
                    _ => return Err(at.bad("unknown quicklist node container")),
                }
            }
        }
    }
    if items.is_empty() {
        return Err(RdbError::bad(start, "empty list"));
    }
    Ok(RdbValue::List(items))
}

fn extend(items: &mut Vec<Vec<u8>>, elements: Vec<Element<'_>>) {
    items.extend(elements.into_iter().map(Element::to_bytes));
}

/// One quicklist node to write.
enum Node<'a> {
    Packed(Vec<u8>),
    Plain(&'a [u8]),
}

pub(crate) fn write(items: &[Vec<u8>], out: &mut Vec<u8>) {
    let mut nodes = Vec::new();
    let mut packing = ListpackWriter::new();
    for item in items {
        if item.len() >= PLAIN_THRESHOLD {
            if !packing.is_empty() {
                nodes.push(Node::Packed(
                    std::mem::replace(&mut packing, ListpackWriter::new()).finish(),
                ));
            }
            nodes.push(Node::Plain(item));
            continue;
        }
        if !packing.is_empty() && packing.bytes() + item.len() + ELEMENT_OVERHEAD > NODE_BYTES {
            nodes.push(Node::Packed(
                std::mem::replace(&mut packing, ListpackWriter::new()).finish(),
            ));
        }
        packing.push(item);
    }
    if !packing.is_empty() {
        nodes.push(Node::Packed(packing.finish()));
    }
    out.push(rdb_type::LIST_QUICKLIST_2);
    put_len(out, nodes.len() as u64);
    for node in nodes {
        match node {
            Node::Packed(lp) => {
                put_len(out, CONTAINER_PACKED);
                put_string(out, &lp);
            }
            Node::Plain(item) => {
                put_len(out, CONTAINER_PLAIN);
                put_string(out, item);
            }
        }
    }
}
