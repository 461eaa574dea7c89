//! Prints the provenance record embedded in this example.
//!
//! `cargo run --example print_provenance`

buildtrace::embed!();

fn main() {
    let Some(record) = buildtrace::provenance() else {
        eprintln!("no provenance record: was this binary built with buildtrace::embed!()?");
        std::process::exit(1);
    };
    println!("provenance id {}", record.id().unwrap_or("unknown"));
    for entry in record.entries() {
        println!("  {:<36} {}", entry.key, entry.value);
    }
    if let Some(id) = buildtrace::gnu_build_id() {
        println!(
            "  {:<36} {id}",
            buildtrace::names::PROCESS_EXECUTABLE_BUILD_ID_GNU
        );
    }
}
