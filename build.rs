//! buildtrace captures its own provenance, so its examples, tests and CLI
//! carry a record made by the very code users run in their build scripts.

#[allow(dead_code, unreachable_pub)]
#[path = "src/provenance.rs"]
mod provenance;

#[allow(dead_code, unreachable_pub)]
#[path = "src/slot.rs"]
mod slot;

#[allow(dead_code, unreachable_pub)]
#[path = "src/keys.rs"]
mod keys;

#[allow(dead_code, unreachable_pub)]
#[path = "src/capture/mod.rs"]
mod build;

fn main() {
    build::capture();
}
