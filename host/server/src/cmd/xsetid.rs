//! TODO
use super::{CmdResult, Ctx};
use crate::error::CmdError;
use sluice_resp::Args;
pub fn run(_ctx: &mut Ctx<'_>, _args: &mut Args) -> CmdResult {
    Err(CmdError::err("not implemented"))
}
