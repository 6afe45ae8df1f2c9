//! `SLUICE PLUGINS`: the plugin files loaded, their versions and the routes using them.

use sluice_resp::{Args, Reply};

use super::{listing, opt_text, text};
use crate::cmd::{CmdResult, Command, Ctx};

pub(super) const PLUGINS: Command = listing(
    "plugins",
    "Lists the plugin files loaded: name, version, WIT version, size, routes.",
    plugins,
);

/// `SLUICE PLUGINS`: one map per plugin file loaded, by file name.
pub fn plugins(ctx: &mut Ctx<'_>, args: &mut Args) -> CmdResult {
    args.finish()?;
    let routes = ctx.shared.broker.routes.list();
    let plugins = ctx.shared.broker.plugins.status.lock().plugins.clone();
    let replies = plugins
        .into_iter()
        .map(|p| {
            let users: Vec<_> = routes
                .iter()
                .filter(|r| r.deployed.spec.plugin == p.file && r.deployed.plugin_hash == p.hash)
                .collect();
            let info = users.iter().find_map(|r| r.deployed.plugin_info.clone());
            let field = |name: &'static str, value: Reply| (Reply::bulk_static(name), value);
            let (wit, error) = match &p.compiled {
                Ok(c) => (Some(c.wit_version().to_owned()), None),
                Err(e) => (None, Some(e.clone())),
            };
            Reply::Map(vec![
                field("file", text(p.file.clone())),
                field("name", opt_text(info.as_ref().map(|i| i.name.clone()))),
                field(
                    "version",
                    opt_text(info.as_ref().map(|i| i.version.clone())),
                ),
                field("wit-version", opt_text(wit)),
                field("bytes", Reply::count(p.bytes)),
                field("loaded-at", Reply::count(p.loaded_at_ms)),
                field(
                    "routes",
                    Reply::Array(
                        users
                            .iter()
                            .map(|r| text(r.deployed.spec.name.clone()))
                            .collect(),
                    ),
                ),
                field("error", opt_text(error)),
            ])
        })
        .collect();
    Ok(Reply::Array(replies).into())
}
