//! TODO
use super::{CmdResult, Ctx};
use crate::error::CmdError;
use sluice_resp::Args;
pub fn del(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn exists(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn type_(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn keys(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn scan(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn rename(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn expire(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn pexpire(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn expireat(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn pexpireat(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn ttl(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn pttl(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn persist(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
