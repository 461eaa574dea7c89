//! Identity of the running executable: its GNU build-id, read from the
//! program headers mapped in memory (no file access), and its `htlhash`.

/// The GNU build-id of the running executable, in lower-case hex, when the
/// linker wrote one (`--build-id`). Read from memory once; later calls are free.
pub fn gnu_build_id() -> Option<&'static str> {
    static ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    ID.get_or_init(|| read_gnu_build_id().map(|b| crate::provenance::hex(&b)))
        .as_deref()
}

/// Reads the GNU build-id of the running executable from its program headers
/// in memory, on every call (see [`gnu_build_id`] for the cached form). `None`
/// where the linker wrote none or the platform is not ELF.
pub fn read_gnu_build_id() -> Option<Vec<u8>> {
    imp::read()
}

/// Computes the `process.executable.build_id.htlhash` of a file's bytes per the
/// OpenTelemetry semantic conventions: SHA-256 over the first 4096 bytes, the
/// last 4096 bytes and the length as a big-endian `u64`; the first 16 bytes,
/// in hex.
#[cfg(any(feature = "otel", feature = "inspect"))]
pub fn htlhash(head: &[u8], tail: &[u8], len: u64) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(head);
    h.update(tail);
    h.update(len.to_be_bytes());
    crate::provenance::hex(&h.finalize()[..16])
}

/// The `htlhash` of a file, reading only its first and last 4 KiB.
///
/// # Errors
/// Any I/O error from opening or reading the file.
#[cfg(any(feature = "otel", feature = "inspect"))]
pub fn htlhash_of_file(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    const SPAN: u64 = 4096;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut head = vec![0u8; len.min(SPAN) as usize];
    f.read_exact(&mut head)?;
    let tail_len = len.min(SPAN);
    f.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail)?;
    Ok(htlhash(&head, &tail, len))
}

/// Finds the NT_GNU_BUILD_ID descriptor in a run of ELF notes (4-byte aligned,
/// native endian as in memory).
#[cfg_attr(not(all(unix, not(target_vendor = "apple"))), allow(dead_code))]
fn find_gnu_build_id(mut notes: &[u8]) -> Option<&[u8]> {
    const NT_GNU_BUILD_ID: u32 = 3;
    let word = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    while notes.len() >= 12 {
        let namesz = word(notes, 0)? as usize;
        let descsz = word(notes, 4)? as usize;
        let kind = word(notes, 8)?;
        let name_end = 12usize.checked_add(namesz)?;
        let desc_start = name_end.checked_next_multiple_of(4)?;
        let desc_end = desc_start.checked_add(descsz)?;
        let name = notes.get(12..name_end)?;
        let desc = notes.get(desc_start..desc_end)?;
        if kind == NT_GNU_BUILD_ID && name == b"GNU\0" {
            return Some(desc);
        }
        notes = notes.get(desc_end.checked_next_multiple_of(4)?..)?;
    }
    None
}

#[cfg(all(unix, not(target_vendor = "apple")))]
mod imp {
    use core::ffi::{c_int, c_void};

    struct Found(Option<Vec<u8>>);

    pub(super) fn read() -> Option<Vec<u8>> {
        let mut found = Found(None);
        // SAFETY: `callback` matches the signature dl_iterate_phdr expects and
        // only uses `data` as the `&mut Found` passed here, which outlives the call.
        unsafe {
            libc::dl_iterate_phdr(Some(callback), (&mut found as *mut Found).cast::<c_void>());
        }
        found.0
    }

    unsafe extern "C" fn callback(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid `info` for the duration of the
        // call, and `data` is the `Found` of `read` above.
        let (info, found) = unsafe { (&*info, &mut *data.cast::<Found>()) };
        // The first object reported is the main executable.
        if info.dlpi_phdr.is_null() {
            return 1;
        }
        // SAFETY: the loader guarantees `dlpi_phnum` program headers at `dlpi_phdr`.
        let phdrs =
            unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
        for ph in phdrs.iter().filter(|p| p.p_type == libc::PT_NOTE) {
            let start = (info.dlpi_addr as usize).wrapping_add(ph.p_vaddr as usize);
            // SAFETY: a PT_NOTE segment of a loaded object is mapped readable
            // at load bias + p_vaddr for p_memsz bytes.
            let notes =
                unsafe { core::slice::from_raw_parts(start as *const u8, ph.p_memsz as usize) };
            if let Some(id) = super::find_gnu_build_id(notes) {
                found.0 = Some(id.to_vec());
                break;
            }
        }
        1 // stop after the main executable
    }
}

#[cfg(not(all(unix, not(target_vendor = "apple"))))]
mod imp {
    pub(super) fn read() -> Option<Vec<u8>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(name.len() as u32).to_ne_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(name);
        v.resize(v.len().next_multiple_of(4), 0);
        v.extend_from_slice(desc);
        v.resize(v.len().next_multiple_of(4), 0);
        v
    }

    #[test]
    fn finds_the_gnu_note_after_others_and_survives_garbage() {
        let mut notes = note(b"GNU\0", 1, &[0; 16]);
        notes.extend(note(b"Go\0\0", 4, b"xyz"));
        notes.extend(note(b"GNU\0", 3, &[0xab; 20]));
        assert_eq!(find_gnu_build_id(&notes), Some(&[0xab; 20][..]));
        for len in 0..notes.len() {
            let _ = find_gnu_build_id(&notes[..len]);
        }
        let mut bad = notes.clone();
        bad[0..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(find_gnu_build_id(&bad), None);
    }
}
