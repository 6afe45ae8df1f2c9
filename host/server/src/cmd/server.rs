//! TODO
use super::{CmdResult, Ctx};
use crate::error::CmdError;
use sluice_resp::Args;
pub fn command_all(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn command_count(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn command_docs(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn command_info(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn command_list(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn command_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn info(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn config_get(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn config_set(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn config_resetstat(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn config_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn dbsize(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn flushall(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn flushdb(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
