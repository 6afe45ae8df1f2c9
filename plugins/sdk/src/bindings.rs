//! The one guest-side bindings module: wit-bindgen output for the `router` world of
//! `wit/sluice.wit`. The rest of the SDK wraps it; plugin authors never touch it.

wit_bindgen::generate!({
    path: "../../wit",
    world: "router",
    pub_export_macro: true,
    export_macro_name: "__export_router_world",
    default_bindings_module: "::sluice_plugin_sdk::bindings",
    runtime_path: "::sluice_plugin_sdk::__private::wit_bindgen::rt",
});
