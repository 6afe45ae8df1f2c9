//! TODO
use super::{CmdResult, Ctx};
use crate::error::CmdError;
use sluice_resp::Args;
pub fn ping(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn echo(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn hello(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn auth(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn select(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn quit(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn reset(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_id(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_setname(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_getname(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_setinfo(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_list(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_info(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn client_help(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn transaction_misrouted(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
