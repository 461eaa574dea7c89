//! Publishing the process context: the `OTEL_CTX` mapping, its header and
//! payload, the update protocol and removal. All of the room's `unsafe` is
//! here.
//!
//! # The mapping
//!
//! One mapping per process, a page multiple large enough for the header
//! and the payload right after it: a `memfd_create("OTEL_CTX")` file mapped
//! private (its descriptor closed at once), or, where memfd is not allowed,
//! an anonymous private mapping. `MADV_DONTFORK` keeps it out of forked
//! children, which did not publish it. `PR_SET_VMA_ANON_NAME` names an
//! anonymous mapping `[anon:OTEL_CTX]` (a memfd is already named
//! `/memfd:OTEL_CTX`; the call then fails, and that is fine).
//!
//! # Order of writes
//!
//! The header is written through atomics. First publication: signature,
//! version, size and payload address, a `SeqCst` fence, then the timestamp
//! last. Update: timestamp 0, fence, payload and its size and address,
//! fence, a timestamp strictly greater than the old one. A reader that sees
//! the same non-zero timestamp before and after reading the payload read a
//! consistent context.
//!
//! A payload larger than the mapping holds is kept in an owned heap buffer
//! that the header points to instead, as the OTEP allows.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::header::{self, HEADER_LEN, MAX_PAYLOAD};

/// Why the context could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Neither a memfd nor an anonymous mapping could be made.
    #[error("cannot map memory for the OpenTelemetry process context ({0}); profilers will not see this process's resource")]
    Map(std::io::Error),
    /// `madvise(MADV_DONTFORK)` failed.
    #[error("cannot keep the OpenTelemetry process context out of forked children (madvise: {0}); it is not published")]
    DontFork(std::io::Error),
    /// The encoded resource is larger than readers accept.
    #[error("the resource is {0} bytes encoded, over the {MAX_PAYLOAD}-byte limit of process-context readers; it is not published (fewer or shorter OTEL_RESOURCE_ATTRIBUTES would fit)")]
    TooLarge(usize),
}

/// The published context, owned by the [`Guard`](crate::Guard) of the
/// `init` that published it: dropping it removes the mapping, unless a later
/// publication has taken it over.
#[derive(Debug)]
pub struct Publication {
    generation: u64,
}

impl Drop for Publication {
    fn drop(&mut self) {
        let mut current = lock();
        if current
            .as_ref()
            .is_some_and(|r| r.generation == self.generation && r.is_ours())
        {
            if let Some(region) = current.take() {
                region.unmap();
            }
        }
    }
}

/// Publishes `payload` (an encoded `ProcessContext`) as this process's
/// context, or updates the one already published.
pub(crate) fn publish_payload(payload: &[u8]) -> Result<Publication, PublishError> {
    if payload.len() > MAX_PAYLOAD as usize {
        return Err(PublishError::TooLarge(payload.len()));
    }
    let mut current = lock();
    // A forked child inherits the state but not the mapping (DONTFORK):
    // forget it, never touch that address.
    if current.as_ref().is_some_and(|r| !r.is_ours()) {
        *current = None;
    }
    let region = match current.as_mut() {
        Some(region) => {
            region.update(payload);
            region
        }
        None => current.insert(Region::create(payload)?),
    };
    region.generation = next_generation();
    Ok(Publication {
        generation: region.generation,
    })
}

fn lock() -> std::sync::MutexGuard<'static, Option<Region>> {
    static CURRENT: Mutex<Option<Region>> = Mutex::new(None);
    CURRENT.lock().unwrap_or_else(|e| e.into_inner())
}

fn next_generation() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The header as the mapping holds it: `repr(C)` fields at the OTEP's
/// offsets, each written atomically.
#[repr(C, align(8))]
#[derive(Debug, Default)]
pub(crate) struct RawHeader {
    signature: AtomicU64,
    version: AtomicU32,
    payload_size: AtomicU32,
    published_at_ns: AtomicU64,
    payload: AtomicU64,
}

const _: () = assert!(std::mem::size_of::<RawHeader>() == HEADER_LEN);
const _: () = assert!(std::mem::offset_of!(RawHeader, version) == header::offset::VERSION);
const _: () =
    assert!(std::mem::offset_of!(RawHeader, payload_size) == header::offset::PAYLOAD_SIZE);
const _: () =
    assert!(std::mem::offset_of!(RawHeader, published_at_ns) == header::offset::PUBLISHED_AT);
const _: () = assert!(std::mem::offset_of!(RawHeader, payload) == header::offset::PAYLOAD);

impl RawHeader {
    /// The first publication: every field, then the timestamp last.
    pub(crate) fn publish(&self, payload: u64, size: u32, now_ns: u64) {
        self.signature
            .store(u64::from_ne_bytes(header::SIGNATURE), Ordering::Relaxed);
        self.version.store(header::VERSION, Ordering::Relaxed);
        self.payload_size.store(size, Ordering::Relaxed);
        self.payload.store(payload, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.published_at_ns.store(now_ns.max(1), Ordering::SeqCst);
    }

    /// The update protocol: timestamp 0, `mutate` (which rewrites the
    /// payload), the new address and size, then a timestamp strictly
    /// greater than the old one, which is returned.
    pub(crate) fn update(
        &self,
        payload: u64,
        size: u32,
        now_ns: u64,
        mutate: impl FnOnce(&Self),
    ) -> u64 {
        let old = self.published_at_ns.load(Ordering::Relaxed);
        self.published_at_ns.store(0, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        mutate(self);
        self.payload_size.store(size, Ordering::Relaxed);
        self.payload.store(payload, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let new = now_ns.max(old.saturating_add(1)).max(1);
        self.published_at_ns.store(new, Ordering::SeqCst);
        new
    }

    /// The fields as they are now.
    #[cfg(test)]
    pub(crate) fn load(&self) -> header::Header {
        header::Header {
            signature: self.signature.load(Ordering::SeqCst).to_ne_bytes(),
            version: self.version.load(Ordering::SeqCst),
            payload_size: self.payload_size.load(Ordering::SeqCst),
            published_at_ns: self.published_at_ns.load(Ordering::SeqCst),
            payload: self.payload.load(Ordering::SeqCst),
        }
    }
}

/// `CLOCK_BOOTTIME` in nanoseconds.
pub(crate) fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    if rc != 0 {
        return 1;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The live mapping of this process.
#[derive(Debug)]
struct Region {
    addr: usize,
    len: usize,
    /// The process that mapped it (a forked child has a copy of this state
    /// but not the mapping).
    pid: u32,
    generation: u64,
    /// A payload too large for the mapping, which the header points to.
    spill: Option<Box<[u8]>>,
}

const MFD_NOEXEC_SEAL: libc::c_uint = 0x0008;
const PR_SET_VMA: libc::c_int = 0x5356_4d41;
const PR_SET_VMA_ANON_NAME: libc::c_ulong = 0;

impl Region {
    fn is_ours(&self) -> bool {
        self.pid == std::process::id()
    }

    fn header(&self) -> &RawHeader {
        // SAFETY: `addr` is the start of a live, page-aligned, read-write
        // mapping of `len >= HEADER_LEN` bytes owned by this Region; it is
        // only unmapped by `unmap`, which consumes the Region. Only atomics
        // access these bytes in this process.
        unsafe { &*(self.addr as *const RawHeader) }
    }

    fn create(payload: &[u8]) -> Result<Region, PublishError> {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|p| *p > 0)
            .unwrap_or(4096);
        let len = (HEADER_LEN + payload.len()).div_ceil(page) * page;
        let addr = map(len)?;
        let region = Region {
            addr,
            len,
            pid: std::process::id(),
            generation: 0,
            spill: None,
        };
        // SAFETY: `addr..addr+len` is our fresh read-write mapping.
        if unsafe { libc::madvise(addr as *mut libc::c_void, len, libc::MADV_DONTFORK) } != 0 {
            let e = std::io::Error::last_os_error();
            region.unmap();
            return Err(PublishError::DontFork(e));
        }
        region.write_in_place(payload);
        region.header().publish(
            (addr + HEADER_LEN) as u64,
            payload.len() as u32,
            boottime_ns(),
        );
        region.name();
        Ok(region)
    }

    /// Copies `payload` right after the header (it fits: checked by callers).
    fn write_in_place(&self, payload: &[u8]) {
        debug_assert!(HEADER_LEN + payload.len() <= self.len);
        // SAFETY: the destination is inside our mapping (the header's end
        // plus `payload.len()` is at most `len`), which no Rust reference
        // covers beyond the header; the source is a distinct slice.
        unsafe {
            std::ptr::copy_nonoverlapping(
                payload.as_ptr(),
                (self.addr + HEADER_LEN) as *mut u8,
                payload.len(),
            );
        }
    }

    fn update(&mut self, payload: &[u8]) {
        let fits = HEADER_LEN + payload.len() <= self.len;
        let spill: Option<Box<[u8]>> = (!fits).then(|| payload.into());
        let address = match &spill {
            Some(buffer) => buffer.as_ptr() as u64,
            None => (self.addr + HEADER_LEN) as u64,
        };
        self.header()
            .update(address, payload.len() as u32, boottime_ns(), |_| {
                if fits {
                    self.write_in_place(payload);
                }
            });
        // The old spilled payload goes only after the header points away.
        self.spill = spill;
        self.name();
    }

    /// Names an anonymous mapping; errors (older kernels, a memfd) ignored.
    fn name(&self) {
        // SAFETY: the arguments are our mapping and a NUL-terminated static
        // name, which the kernel copies.
        unsafe {
            libc::prctl(
                PR_SET_VMA,
                PR_SET_VMA_ANON_NAME,
                self.addr as libc::c_ulong,
                self.len as libc::c_ulong,
                c"OTEL_CTX".as_ptr(),
            );
        }
    }

    fn unmap(self) {
        // SAFETY: the Region owns the mapping and is consumed: no reference
        // into it outlives this call.
        unsafe {
            libc::munmap(self.addr as *mut libc::c_void, self.len);
        }
    }
}

/// A private read-write mapping of `len` bytes: a memfd named `OTEL_CTX`,
/// else anonymous memory.
fn map(len: usize) -> Result<usize, PublishError> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    let memfd = |flags: libc::c_uint| {
        // SAFETY: a NUL-terminated static name and plain flags.
        unsafe { libc::syscall(libc::SYS_memfd_create, c"OTEL_CTX".as_ptr(), flags) as libc::c_int }
    };
    let mut fd = memfd(flags | MFD_NOEXEC_SEAL);
    if fd < 0 {
        fd = memfd(flags);
    }
    if fd >= 0 {
        // SAFETY: `fd` is the memfd we just created; it is closed once
        // mapped (the mapping keeps the file).
        let addr = unsafe {
            let sized = libc::ftruncate(fd, len as libc::off_t) == 0;
            let addr = if sized {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE,
                    fd,
                    0,
                )
            } else {
                libc::MAP_FAILED
            };
            libc::close(fd);
            addr
        };
        if addr != libc::MAP_FAILED {
            return Ok(addr as usize);
        }
    }
    // SAFETY: an anonymous mapping at an address the kernel chooses.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(PublishError::Map(std::io::Error::last_os_error()));
    }
    Ok(addr as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process_context::header::Header;

    #[test]
    fn first_publication_writes_the_otep_header() {
        let raw = RawHeader::default();
        raw.publish(0xdead_beef, 17, 1234);
        let expected = Header {
            signature: *b"OTEL_CTX",
            version: 2,
            payload_size: 17,
            published_at_ns: 1234,
            payload: 0xdead_beef,
        };
        assert_eq!(raw.load(), expected);
        // SAFETY: RawHeader is 32 bytes of plain atomics, read here as bytes
        // while nothing writes them.
        let bytes: [u8; HEADER_LEN] = unsafe { std::mem::transmute_copy(&raw) };
        assert_eq!(bytes, expected.encode());
    }

    #[test]
    fn an_update_zeroes_the_timestamp_while_mutating_then_increases_it() {
        let raw = RawHeader::default();
        raw.publish(1, 10, 5_000);
        let mut seen = None;
        let new = raw.update(2, 20, 10, |h| seen = Some(h.load()));
        let during = seen.unwrap();
        assert_eq!(during.published_at_ns, 0);
        // The old payload is still described while it is being replaced.
        assert_eq!((during.payload, during.payload_size), (1, 10));
        // The clock said 10 (earlier than 5000): still strictly greater.
        assert_eq!(new, 5_001);
        let after = raw.load();
        assert_eq!(
            (after.payload, after.payload_size, after.published_at_ns),
            (2, 20, 5_001)
        );
        let later = raw.update(3, 30, 9_000, |_| {});
        assert_eq!(later, 9_000);
    }

    #[test]
    fn boottime_is_monotonic_and_non_zero() {
        let a = boottime_ns();
        let b = boottime_ns();
        assert!(a > 0 && b >= a);
    }

    #[test]
    fn publishing_twice_updates_one_mapping_and_dropping_removes_it() {
        let count = || {
            std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .filter(|l| header::MAPPING_NAMES.iter().any(|n| l.ends_with(n)))
                .count()
        };
        let before = count();
        let first = publish_payload(b"one").unwrap();
        let (addr, t1) = {
            let current = lock();
            let r = current.as_ref().unwrap();
            (r.addr, r.header().load().published_at_ns)
        };
        assert_eq!(count(), before + 1);
        let big = vec![7u8; 10_000];
        let second = publish_payload(&big).unwrap();
        {
            let current = lock();
            let r = current.as_ref().unwrap();
            let h = r.header().load();
            assert_eq!(r.addr, addr, "one mapping per process");
            assert!(h.published_at_ns > t1);
            assert_eq!(h.payload_size, 10_000);
            // Too large for the first page: spilled to the heap.
            assert_eq!(h.payload, r.spill.as_ref().unwrap().as_ptr() as u64);
        }
        drop(first); // superseded: removes nothing
        assert_eq!(count(), before + 1);
        drop(second);
        assert_eq!(count(), before);
        assert!(matches!(
            publish_payload(&vec![0; MAX_PAYLOAD as usize + 1]),
            Err(PublishError::TooLarge(_))
        ));
    }
}
