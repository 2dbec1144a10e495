//! Hints to the processor's caches.

/// Asks for the cache line holding `p` to be brought to this core for writing
/// (`PREFETCHW` on x86-64 processors that have it), without waiting for it; nothing
/// elsewhere.
///
/// For memory this thread is about to write that another core has read since this one
/// last wrote it (a queue's slots, a buffer that cycles between two threads): taken at
/// the store, the transfer of the line holds the store in the core's buffer until the
/// line comes, and the next fenced or locked instruction waits for it. Asked for a little
/// ahead, the line is here by then. (A prefetch for reading, `PREFETCHT0`, brings the
/// line shared, and the store still has to take it from the other core: no gain in the
/// inproc stream where this one gains half.)
///
/// Safe for any address: a prefetch reads and writes nothing, and faults on none.
#[inline(always)]
pub fn prefetch_write(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    if x86::has_prefetchw() {
        // SAFETY: the instruction only hints the cache: it accesses no memory as far as
        // the program can tell, ignores an address that is not mapped, and the processor
        // has it (`has_prefetchw`).
        #[allow(unsafe_code)]
        unsafe {
            std::arch::asm!("prefetchw [{0}]", in(reg) p, options(nostack, preserves_flags, readonly));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::sync::atomic::{AtomicU8, Ordering};

    const UNKNOWN: u8 = 0;
    const ABSENT: u8 = 1;
    const PRESENT: u8 = 2;

    /// Whether the processor has `PREFETCHW`, once asked.
    static PREFETCHW: AtomicU8 = AtomicU8::new(UNKNOWN);

    /// Whether the processor has `PREFETCHW` (every AMD processor of x86-64, Intel's from
    /// Broadwell on): one load of a flag after the first call.
    #[inline(always)]
    pub(super) fn has_prefetchw() -> bool {
        match PREFETCHW.load(Ordering::Relaxed) {
            PRESENT => true,
            ABSENT => false,
            _ => detect(),
        }
    }

    /// Asks the processor: CPUID leaf 0x8000_0001, ECX bit 8 (`PRFCHW`).
    #[cold]
    fn detect() -> bool {
        use std::arch::x86_64::__cpuid;
        // SAFETY: CPUID is on every x86-64 processor, and leaf 0x8000_0001 is asked for only
        // when the highest extended leaf reaches it. (`unsafe` for toolchains before the
        // intrinsic was made safe.)
        #[allow(unsafe_code, unused_unsafe)]
        let present = unsafe {
            __cpuid(0x8000_0000).eax >= 0x8000_0001 && __cpuid(0x8000_0001).ecx & (1 << 8) != 0
        };
        PREFETCHW.store(if present { PRESENT } else { ABSENT }, Ordering::Relaxed);
        present
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefetch_changes_nothing_and_faults_on_no_address() {
        let mut data = vec![7u8; 256];
        for at in (0..data.len()).step_by(64) {
            prefetch_write(data[at..].as_ptr());
        }
        data[100] = 9;
        assert_eq!(data.iter().filter(|&&b| b == 7).count(), 255);
        // Not mapped: the null page, and memory given back (1 MiB: its own mapping).
        prefetch_write(std::ptr::null());
        let big = vec![1u8; 1 << 20];
        let gone = big.as_ptr();
        drop(big);
        prefetch_write(gone);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_processor_is_asked_once() {
        let first = x86::has_prefetchw();
        assert_eq!(x86::has_prefetchw(), first);
    }
}
