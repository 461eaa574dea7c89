//! vergen's documented set-up: every `VERGEN_BUILD_*`, `VERGEN_CARGO_*`,
//! `VERGEN_GIT_*` (from the `git` command) and `VERGEN_RUSTC_*` variable.

use vergen_gitcl::{Build, Cargo, Emitter, Gitcl, Rustc};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Emitter::default()
        .add_instructions(&Build::all_build())?
        .add_instructions(&Cargo::all_cargo())?
        .add_instructions(&Gitcl::all_git())?
        .add_instructions(&Rustc::all_rustc())?
        .emit()?;
    Ok(())
}
