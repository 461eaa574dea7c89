//! buildtrace captures its own provenance, so its examples, tests and CLI
//! carry a record made by the very code users run in their build scripts.

#[allow(dead_code, unreachable_pub)]
#[path = "src/provenance.rs"]
mod provenance;

#[allow(dead_code, unreachable_pub)]
#[path = "src/slot.rs"]
mod slot;

#[allow(dead_code, unreachable_pub)]
#[path = "src/names.rs"]
mod names;

#[cfg(feature = "build-sign")]
#[allow(dead_code, unreachable_pub)]
#[path = "src/signing.rs"]
mod signing;

#[allow(dead_code, unreachable_pub)]
#[path = "src/scrub.rs"]
mod scrub;

#[allow(dead_code, unreachable_pub)]
#[path = "src/build/mod.rs"]
mod build;

fn main() {
    // buildtrace's own record is never signed: a BUILDTRACE_SIGNING_KEY set
    // for the application being built is that application's.
    build::capture_unsigned();
}
