//! Hints to the processor's caches.

/// Asks for the cache line holding `p` to be brought to this core for writing
/// (`PREFETCHW` on x86-64), without waiting for it; nothing elsewhere.
///
/// For memory this thread is about to write that another core has read since this one
/// last wrote it (a queue's slots, a buffer that cycles between two threads): taken at
/// the store, the transfer of the line holds the store in the core's buffer until the
/// line comes, and the next fenced or locked instruction waits for it. Asked for a little
/// ahead, the line is here by then.
///
/// Safe for any address: a prefetch reads and writes nothing, and faults on none.
#[inline(always)]
pub fn prefetch_write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the instruction only hints the cache: it accesses no memory as far as the
    // program can tell, and ignores an address that is not mapped.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::asm!("prefetchw [{0}]", in(reg) p, options(nostack, preserves_flags, readonly));
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
