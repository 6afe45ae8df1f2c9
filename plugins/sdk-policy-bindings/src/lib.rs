//! Internal to `sluice-plugin-sdk`: the wit-bindgen output for the `claim-policy` world of
//! `wit/sluice.wit`. Plugin authors use the SDK's `ClaimPolicy` and `export_claim_policy!`.
//!
//! A crate of its own because wit-bindgen names each interface's export macro after the
//! interface and exports it from the crate root: the SDK's `router` bindings already define the
//! one for `lifecycle`, which this world exports too, and one crate cannot hold both.
//!
//! The types and the `log` import generated here duplicate the SDK's; the SDK converts and logs
//! through its own, so this crate's `log` import is never linked in.

wit_bindgen::generate!({
    path: "../../wit",
    world: "claim-policy",
    pub_export_macro: true,
    export_macro_name: "__export_claim_policy_world",
    default_bindings_module: "::sluice_plugin_sdk::__private::policy_bindings",
});
