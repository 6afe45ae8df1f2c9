//! TODO
use super::{CmdResult, Ctx};
use crate::error::CmdError;
use sluice_resp::Args;
pub fn xrange(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
pub fn xrevrange(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
