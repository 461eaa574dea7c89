//! Placing the record in the binary and finding it again at run time.
//!
//! [`embed!`](crate::embed!) expands, in the application's binary crate, to
//! two statics:
//!
//! - the record itself, `include_bytes!` of `$OUT_DIR/buildtrace.bin` written
//!   by [`build::capture`](crate::build), 16-byte aligned, `#[used]`, in a
//!   dedicated allocated read-only section ([`SECTION_ELF`], [`SECTION_MACHO`],
//!   [`SECTION_PE`]). Allocated means it is mapped with the program, so the
//!   running process reads it from memory for free; a dedicated name means the
//!   offline reader finds it by name, with the magic scan as a fallback;
//! - a constructor entry (`.init_array`, `__mod_init_func`, `.CRT$XCU`) that
//!   hands the record's address to [`register`] before `main` runs. The
//!   constructor also keeps the record reachable, so `--gc-sections`, LTO and
//!   `strip` do not remove it.
//!
//! The library cannot name a static of the application crate, hence the
//! registration; it costs one atomic store, once.

use std::sync::OnceLock;

/// Section name on ELF targets (Linux, the BSDs, Android …).
pub const SECTION_ELF: &str = ".buildtrace";
/// Segment and section on Mach-O targets (macOS, iOS …).
pub const SECTION_MACHO: &str = "__TEXT,__buildtrace";
/// Section name on PE/COFF targets (Windows). Image section names are at most
/// eight bytes.
pub const SECTION_PE: &str = ".btrace";

/// The 16-byte aligned wrapper the record is stored in.
#[doc(hidden)]
#[repr(C, align(16))]
#[derive(Debug)]
pub struct Aligned<const N: usize>(pub [u8; N]);

static REGISTERED: OnceLock<&'static [u8]> = OnceLock::new();

/// Called by the constructor that [`embed!`](crate::embed!) emits. The first
/// registration wins.
#[doc(hidden)]
pub fn register(record: &'static [u8]) {
    // black_box: the record's seal slot is written into the file after
    // linking, so the optimiser must not treat these bytes as the constants
    // it compiled.
    let _ = REGISTERED.set(core::hint::black_box(record));
}

/// The registered record bytes, if the binary used `embed!()`.
pub(crate) fn registered() -> Option<&'static [u8]> {
    REGISTERED.get().copied()
}

/// Embeds the provenance record captured by the build script in this binary.
///
/// Call it once, at the top level of the binary crate (usually `main.rs`),
/// in a package whose `build.rs` calls `buildtrace::build::capture()`.
///
/// # Examples
///
/// ```ignore
/// buildtrace::embed!();
///
/// fn main() {
///     if let Some(p) = buildtrace::provenance() {
///         println!("{}", p.id().unwrap_or("unknown"));
///     }
/// }
/// ```
#[macro_export]
macro_rules! embed {
    () => {
        $crate::embed!(concat!(env!("OUT_DIR"), "/buildtrace.bin"));
    };
    ($path:expr) => {
        const _: () = {
            #[used]
            #[cfg_attr(
                any(
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "tvos",
                    target_os = "watchos",
                    target_os = "visionos"
                ),
                unsafe(link_section = "__TEXT,__buildtrace")
            )]
            #[cfg_attr(windows, unsafe(link_section = ".btrace"))]
            #[cfg_attr(
                not(any(
                    windows,
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "tvos",
                    target_os = "watchos",
                    target_os = "visionos"
                )),
                unsafe(link_section = ".buildtrace")
            )]
            static BUILDTRACE_RECORD: $crate::embed::Aligned<{ include_bytes!($path).len() }> =
                $crate::embed::Aligned(*include_bytes!($path));

            extern "C" fn buildtrace_register() {
                $crate::embed::register(&BUILDTRACE_RECORD.0);
                $crate::startup::constructor();
            }

            #[used]
            #[cfg_attr(
                any(
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "tvos",
                    target_os = "watchos",
                    target_os = "visionos"
                ),
                unsafe(link_section = "__DATA,__mod_init_func")
            )]
            #[cfg_attr(windows, unsafe(link_section = ".CRT$XCU"))]
            #[cfg_attr(
                not(any(
                    windows,
                    target_os = "macos",
                    target_os = "ios",
                    target_os = "tvos",
                    target_os = "watchos",
                    target_os = "visionos"
                )),
                unsafe(link_section = ".init_array")
            )]
            static BUILDTRACE_CTOR: extern "C" fn() = buildtrace_register;
        };
    };
}
