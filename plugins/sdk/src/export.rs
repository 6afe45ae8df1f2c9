//! The glue between the generated export traits and the author's [`Router`] impl: keeps the
//! plugin's state between calls, walks the batch, and turns a per-event `Err` into a failure.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::exports::sluice::plugin::{lifecycle, routing};
use crate::bindings::sluice::plugin::types::{Config as RawConfig, PluginInfo};
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
    pub(crate) static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Implements the generated export traits for a [`Describe`] type.
#[doc(hidden)]
pub struct RouterExport<D>(PhantomData<D>);

impl<D: Describe> lifecycle::Guest for RouterExport<D>
where
    D::Plugin: Router,
{
    fn describe() -> PluginInfo {
        PluginInfo {
            name: D::NAME.to_owned(),
            version: D::VERSION.to_owned(),
        }
    }

    fn init(config: RawConfig) -> Result<(), String> {
        let plugin = D::Plugin::init(&Config::new(config))?;
        STATE.with_borrow_mut(|state| *state = Some(Box::new(plugin)));
        Ok(())
    }
}

impl<D: Describe> routing::Guest for RouterExport<D>
where
    D::Plugin: Router,
{
    fn route(key: String, count: u32, events: Vec<u8>) -> Result<routing::Routed, String> {
        STATE.with_borrow_mut(|state| {
            let plugin = state
                .as_mut()
                .and_then(|s| s.downcast_mut::<D::Plugin>())
                .ok_or("route called before init")?;
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
        #[doc(hidden)]
        struct __SluiceDescribe;
        impl $crate::__private::Describe for __SluiceDescribe {
            type Plugin = $plugin;
            const NAME: &'static str = env!("CARGO_PKG_NAME");
            const VERSION: &'static str = env!("CARGO_PKG_VERSION");
        }
        #[doc(hidden)]
        type __SluiceExport = $crate::__private::RouterExport<__SluiceDescribe>;
        $crate::bindings::__export_router_world!(__SluiceExport with_types_in $crate::bindings);
    };
}
