//! `ACL CAT`: the ACL categories, or the commands in one.

use sluice_resp::{Args, Reply};

use crate::acl::catalog::{CATEGORIES, category_bit};
use crate::cmd::meta::*;
use crate::cmd::{CmdResult, Command, Ctx, catalog};
use crate::error;

pub(super) const CAT: Command = Command {
    name: "cat",
    arity: -2,
    flags: NOSCRIPT | LOADING | STALE,
    keys: NOKEYS,
    categories: &["slow"],
    group: "server",
    since: "6.0.0",
    summary: "Lists the ACL categories, or the commands inside a category.",
    syntax: "[category]",
    handler: cat,
    subcommands: &[],
};

/// `ACL CAT [category]`: the categories, or the commands in one (`cmd|sub` for subcommands).
pub fn cat(_ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    let Some(name) = args.next_arg() else {
        return Ok(Reply::Array(CATEGORIES.iter().map(|c| Reply::bulk_static(c)).collect()).into());
    };
    if !args.is_empty() {
        let spelled = args.all().get(1).map_or(&b"cat"[..], |s| s);
        return Err(error::subcommand_syntax("acl", spelled));
    }
    let bit = category_bit(&name).ok_or_else(|| error::unknown_acl_category(&name))?;
    let catalog = catalog();
    let names = catalog
        .in_category(bit)
        .filter_map(|i| catalog.get(i))
        .map(|entry| Reply::bulk(entry.full_name()));
    Ok(Reply::Array(names.collect()).into())
}
