//! The glue between the generated export traits and the author's [`Router`] impl: keeps the
//! plugin's state between calls, walks the batch, and turns a per-event `Err` into a failure.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::sluice::plugin::{lifecycle, routing};
use crate::bindings::sluice::plugin::types::PluginInfo;
use crate::event::{BatchReader, Event, Fields};
use crate::{Config, Outputs};

/// A routing plugin: filter, transform or route events. Implement it, then call
/// [`crate::export_router!`] once with the type.
pub trait Router: Sized + 'static {
    /// Builds the plugin from the route's configuration; an `Err` refuses it (the broker
    /// reports the message and does not run the route).
    fn init(config: &Config) -> Result<Self, String>;

    /// Decides what becomes of one event: call [`Outputs::forward`] or [`Outputs::emit`] zero
    /// or more times. Returning `Err(reason)` fails this event only (it is dead-lettered with
    /// the reason, or skipped, per the route's `on_error`); outputs it made are discarded.
    fn route(&mut self, event: &Event<'_>, out: &mut Outputs) -> Result<(), String>;
}

/// Names and versions a plugin for `describe`; [`crate::export_router!`] and
/// [`crate::export_claim_policy!`] implement it from the plugin crate's `Cargo.toml`.
#[doc(hidden)]
pub trait Describe: 'static {
    type Plugin: 'static;
    const NAME: &'static str;
    const VERSION: &'static str;
}

thread_local! {
    // Components are single-threaded; this is one plugin instance's state (a router's or a
    // claim policy's: a component is one or the other).
    static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// The `init` export of either world: builds the plugin from `config` and keeps it as this
/// instance's state.
pub(crate) fn init_state<P: 'static>(
    config: Vec<(String, String)>,
    init: impl FnOnce(&Config) -> Result<P, String>,
) -> Result<(), String> {
    let plugin = init(&Config::new(config))?;
    STATE.with_borrow_mut(|state| *state = Some(Box::new(plugin)));
    Ok(())
}

/// Runs `f` on the plugin `init` kept; `export` names the call in the error when `init` has
/// not run.
pub(crate) fn with_plugin<P: 'static, R>(
    export: &str,
    f: impl FnOnce(&mut P) -> Result<R, String>,
) -> Result<R, String> {
    STATE.with_borrow_mut(|state| {
        let plugin = state
            .as_mut()
            .and_then(|s| s.downcast_mut::<P>())
            .ok_or_else(|| format!("{export} called before init"))?;
        f(plugin)
    })
}

/// Implements a world's `lifecycle` exports for `$export<D>`, whose plugin implements
/// `$kind`. Each world's bindings generate their own `lifecycle::Guest` and `PluginInfo`,
/// alike but distinct types, so one generic impl cannot serve both.
macro_rules! lifecycle_guest {
    ($guest:path, $info:ident, $export:ident, $kind:ident) => {
        impl<D: $crate::export::Describe> $guest for $export<D>
        where
            D::Plugin: $kind,
        {
            fn describe() -> $info {
                $info {
                    name: D::NAME.to_owned(),
                    version: D::VERSION.to_owned(),
                }
            }

            fn init(config: Vec<(String, String)>) -> Result<(), String> {
                $crate::export::init_state(config, D::Plugin::init)
            }
        }
    };
}
pub(crate) use lifecycle_guest;

/// Implements the generated export traits for a [`Describe`] type.
#[doc(hidden)]
pub struct RouterExport<D>(PhantomData<D>);

lifecycle_guest!(lifecycle::Guest, PluginInfo, RouterExport, Router);

impl<D: Describe> routing::Guest for RouterExport<D>
where
    D::Plugin: Router,
{
    fn route(key: String, count: u32, events: Vec<u8>) -> Result<routing::Routed, String> {
        with_plugin("route", |plugin: &mut D::Plugin| {
            let mut out = Outputs::new();
            let mut reader = BatchReader::new(&events);
            for index in 0..count {
                let (id, fields) = reader
                    .next_event()
                    .ok_or_else(|| format!("malformed batch: event {index} of {count}"))?;
                let event = Event {
                    index,
                    key: &key,
                    id,
                    fields: Fields(fields),
                };
                out.begin(index);
                if let Err(reason) = plugin.route(&event, &mut out) {
                    out.fail(reason);
                }
            }
            Ok(out.into_routed())
        })
    }
}

/// Defines `__SluiceDescribe`, the [`Describe`] type of `$plugin`, named and versioned from
/// the plugin crate's `Cargo.toml` (`env!` expands in the crate that invokes the export
/// macro): the part [`crate::export_router!`] and [`crate::export_claim_policy!`] share.
#[doc(hidden)]
#[macro_export]
macro_rules! __describe {
    ($plugin:ty) => {
        #[doc(hidden)]
        struct __SluiceDescribe;
        impl $crate::__private::Describe for __SluiceDescribe {
            type Plugin = $plugin;
            const NAME: &'static str = env!("CARGO_PKG_NAME");
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
        }
    };
}

/// Exports a [`Router`] implementation as the plugin's component exports. Call it once, at the
/// top level of the plugin crate:
///
/// ```ignore
/// sluice_plugin_sdk::export_router!(MyFilter);
/// ```
///
/// The plugin describes itself with the crate's name and version from its `Cargo.toml`.
#[macro_export]
macro_rules! export_router {
    ($plugin:ty) => {
        $crate::__describe!($plugin);
        #[doc(hidden)]
        type __SluiceExport = $crate::__private::RouterExport<__SluiceDescribe>;
        $crate::bindings::__export_router_world!(__SluiceExport with_types_in $crate::bindings);
    };
}
