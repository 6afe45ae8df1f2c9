//! [`RouterInstance`]: one route's plugin instance. The store, limits and restart rule are
//! [`Supervised`]'s; this adds the `route` call and the packing of batches.

use crate::batch::{Batch, EventRef};
use crate::bindings::{RawRouted, Routing};
use crate::supervised::{Supervised, supervised_accessors};
use crate::{PluginError, Routed};

/// A router plugin instance, initialised and ready to route batches. `Send`: move it to the
/// thread that runs its route. Calls block for at most the per-call deadline.
pub struct RouterInstance {
    plugin: Supervised<Routing>,
    batch: Batch,
}

supervised_accessors!(RouterInstance, "route", instantiate_router);

impl RouterInstance {
    /// The instance around `plugin`, already initialised.
    pub(crate) fn new(plugin: Supervised<Routing>) -> Self {
        Self {
            plugin,
            batch: Batch::new(),
        }
    }

    /// Routes one batch of events read from the stream `source_key`, in stream order.
    ///
    /// On [`PluginError::Trap`], [`PluginError::Timeout`] or [`PluginError::OutOfMemory`] the
    /// whole batch failed and the instance was discarded; the next call re-creates it. To find
    /// which event was at fault, route the batch's events one at a time.
    pub fn route(
        &mut self,
        source_key: &str,
        events: &[EventRef<'_>],
    ) -> Result<Routed, PluginError> {
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let result = events
            .iter()
            .try_for_each(|e| batch.push(e.id, e.fields))
            .and_then(|()| self.route_batch(source_key, &batch));
        self.batch = batch;
        result
    }

    /// [`RouterInstance::route`] over events already packed into a [`Batch`].
    pub fn route_batch(&mut self, source_key: &str, batch: &Batch) -> Result<Routed, PluginError> {
        let raw = if batch.is_empty() {
            RawRouted {
                destinations: Vec::new(),
                outputs: Vec::new(),
                new_fields: Vec::new(),
                failures: Vec::new(),
            }
        } else {
            self.plugin.call(|routing, store| {
                routing.call_route(store, source_key, batch.count(), batch.as_bytes())
            })?
        };
        Routed::check(raw, batch.len()).map_err(|reason| self.plugin.contract(reason))
    }
}
