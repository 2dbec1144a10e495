//! Large frame bodies, recycled.
//!
//! A large message costs more in fresh memory than in copying: each body of 128 KiB and
//! more is a new mapping from the allocator, whose pages fault in (the kernel zeroing each)
//! as the payload is copied into it, and which is unmapped again when the message is
//! dropped, on another thread (the I/O thread after writing it, the receiving socket's
//! after reading it). `perf record` of a 1 MiB tcp stream: page faults and page clearing
//! took about 15% of the sending process and 7% of the receiving one's I/O thread.
//!
//! So the bodies of large frames (received ones, and the facade's copies of sent ones) are
//! [`Bytes`] whose buffer, once the last reference is dropped, goes to a small process-wide
//! pool instead of back to the allocator; the next large body of about the same size takes
//! it from there, with its pages resident and, most likely, in cache. The pool is bounded
//! ([`POOL_BYTES`], [`PER_CLASS`] to [`PER_CLASS_MAX`], [`MAX_LEN`]): what does not fit
//! is freed as before.
//! A buffer in the pool holds initialised bytes (stale content), so a body can be read or
//! copied into it without zeroing it first.
//!
//! Where a body starts in its buffer matters too. The kernel copies a socket's bytes with
//! `rep movsb`, which on this machine (AMD EPYC) runs several times slower when the
//! destination lies just after the source modulo the 4 KiB page (see
//! [`zmtp_codec::copy`]). A large body's bytes usually sit near the start of a page on the
//! sending side (a page fragment begun with the frame's header), and a buffer of 128 KiB
//! and more from the allocator starts 16 bytes into a page: 1 MiB half round trips over tcp
//! took 550-850 us with recycled buffers so placed, 200-300 us with the body moved 64
//! bytes, 2 KiB or 4 KiB further. So a body starts at least [`PAGE_HEAD`] bytes into a
//! page ([`start_for`]), which costs at most that many bytes of each buffer.
//!
//! The chunks that small frames are cut from (the engine's read buffers, the facade's
//! small copies) cannot come back through this pool, being shared by their frames; their
//! holders keep them and take them again once no frame holds them ([`Chunks`]).
//!
//! A frame cut from a chunk takes a reference on the chunk's count on the thread that cuts
//! it and gives it back on the thread that is done with it: with a stream of such frames
//! between two threads, both would change that one count at every message, and the line
//! holding it would cross between the cores twice per message. So the threads that are
//! done with most frames (a socket's receiving thread, the I/O thread after encoding)
//! drop small ones a batch at a time ([`release`]): the chunk's count is then the cutting
//! thread's most of the time.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use parking_lot::Mutex;
use zmtp_codec::Payload;

/// Buffers shorter than this are not kept: smaller copies and reads share chunks instead
/// (the facade's small copies and the engine's read buffers).
pub const MIN_LEN: usize = 8 * 1024;

/// Buffers longer than this are not kept (they would hold much memory for a rare size).
pub const MAX_LEN: usize = 16 * 1024 * 1024;

/// The most bytes the pool holds in all, so that a burst of large messages does not leave
/// the process holding their memory for good.
pub const POOL_BYTES: usize = 32 * 1024 * 1024;

/// The fewest buffers kept of each size class (a power of two): a stream of one size
/// needs one or two while the receiver keeps up, as a body is dropped on one thread while
/// the next is taken on another.
pub const PER_CLASS: usize = 4;

/// A class keeps more buffers, up to [`PER_CLASS_MAX`], while they hold no more than this
/// many bytes: a reader a little behind frees bodies in bursts. A tcp stream of 50,000
/// messages of 64 KiB: the receiver took 33,000 to 85,000 page faults (about 9% of its I/O
/// thread) with 4 kept, 18,000 to 24,000 with 64. Large buffers stay at [`PER_CLASS`]: 32
/// of 1 MiB made the sender spend more CPU time (1.98-2.25 s for 4,000 messages against
/// 1.63-1.92 s with 4).
pub const CLASS_BYTES: usize = 4 * 1024 * 1024;

/// The most buffers kept of a class however small.
pub const PER_CLASS_MAX: usize = 64;

/// How many buffers of `len` bytes a class keeps.
fn class_limit(len: usize) -> usize {
    (CLASS_BYTES / len.max(1)).clamp(PER_CLASS, PER_CLASS_MAX)
}

/// A body does not start in the first this many bytes of a page ([`start_for`]).
pub const PAGE_HEAD: usize = 64;

/// Size classes: a buffer of length `n` is in class `log2(n)`, from [`MIN_LEN`] to
/// [`MAX_LEN`].
const FIRST_CLASS: u32 = MIN_LEN.ilog2();
const CLASSES: usize = (MAX_LEN.ilog2() - FIRST_CLASS + 1) as usize;

/// The process's pool.
static POOL: Pool = Pool::new();

struct Pool {
    /// Each class's buffers, the most recently returned last.
    classes: [Mutex<Vec<Vec<u8>>>; CLASSES],
    /// The bytes held, summed over every class.
    held: AtomicUsize,
    /// Whether a buffer of the class was ever returned ([`GLIBC_MMAP_THRESHOLD`]).
    returned: [AtomicBool; CLASSES],
}

/// glibc's initial threshold for serving an allocation with its own `mmap`. glibc raises
/// the threshold to the size of a mapped chunk when one is freed, and serves what is below
/// it from the heap, whose freed memory it reuses; a mapped chunk's pages go back to the
/// system when it is freed, and a new one's are faulted in and cleared again. The first
/// buffer of a class from this size on that comes back is therefore freed, not kept: a
/// pool that kept it would hide every large free from glibc while the pool has room, and a
/// sender whose copies run ahead of its I/O thread took about a thousand fresh mappings
/// before the threshold rose (a CURVE sender of 256 KiB messages: 965 `mmap`s, each page
/// faulted in and cleared, where libzmq's process made 82).
const GLIBC_MMAP_THRESHOLD: usize = 128 * 1024;

impl Pool {
    const fn new() -> Self {
        Self {
            classes: [const { Mutex::new(Vec::new()) }; CLASSES],
            held: AtomicUsize::new(0),
            returned: [const { AtomicBool::new(false) }; CLASSES],
        }
    }

    fn class(len: usize) -> Option<usize> {
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return None;
        }
        Some((len.ilog2() - FIRST_CLASS) as usize)
    }

    /// A buffer with room for a body of `len` bytes at [`start_for`] its address, and at
    /// most about four times that: the most recent of its class that has the room, else
    /// of the next class.
    fn take(&self, len: usize) -> Option<(Vec<u8>, usize)> {
        let class = Self::class(len)?;
        let fits = |buf: &Vec<u8>| buf.len() >= start_for(buf.as_ptr()) + len;
        let buf = [class, class + 1].into_iter().find_map(|class| {
            let mut own = self.classes.get(class)?.lock();
            own.iter().rposition(fits).map(|at| own.remove(at))
        })?;
        self.held.fetch_sub(buf.len(), Ordering::Relaxed);
        let start = start_for(buf.as_ptr());
        Some((buf, start))
    }

    /// Keeps `buf` if there is room for it; otherwise it is freed.
    fn give(&self, buf: Vec<u8>) {
        let Some(class) = Self::class(buf.len()) else {
            return;
        };
        let len = buf.len();
        if cfg!(all(target_os = "linux", target_env = "gnu"))
            && len >= GLIBC_MMAP_THRESHOLD
            && !self.returned[class].swap(true, Ordering::Relaxed)
        {
            // Freed, so that glibc raises its threshold past this size.
            return;
        }
        // Counted before it is in its class, so that racing returns never exceed the bound.
        if self.held.fetch_add(len, Ordering::Relaxed) + len > POOL_BYTES {
            self.held.fetch_sub(len, Ordering::Relaxed);
            return;
        }
        let mut own = self.classes[class].lock();
        if own.len() < class_limit(len) {
            own.push(buf);
            return;
        }
        // The oldest, likely out of cache, makes room for the newest.
        let old = own.remove(0);
        own.push(buf);
        drop(own);
        self.held.fetch_sub(old.len(), Ordering::Relaxed);
    }
}

/// Where a body should start in a buffer at `base`: the bytes to skip so that it does not
/// begin in the first [`PAGE_HEAD`] bytes of a page (0 to [`PAGE_HEAD`]). It depends only on
/// the address, so a buffer recycled for a body of the size it held before has room for it
/// at the same place.
pub fn start_for(base: *const u8) -> usize {
    let offset = base as usize % 4096;
    PAGE_HEAD.saturating_sub(offset)
}

/// A recycled buffer for a body of `len` bytes, if the pool has one, and where the body
/// starts in it ([`start_for`]): `buf[start..start + len]` is initialised (its content is
/// stale).
pub fn take(len: usize) -> Option<(Vec<u8>, usize)> {
    POOL.take(len)
}

/// `buf[start..start + len]` (initialised) as [`Bytes`], whose buffer goes back to the pool
/// when the last reference to it is dropped.
///
/// # Panics
/// If the range is not within `buf`.
pub fn into_bytes(buf: Vec<u8>, start: usize, len: usize) -> Bytes {
    assert!(
        start.checked_add(len).is_some_and(|end| end <= buf.len()),
        "body of {len} bytes at {start} in a buffer of {}",
        buf.len()
    );
    Bytes::from_owner(Recycled { buf, start, len })
}

/// A copy of `data` in a recycled buffer (a new one if the pool has none of its size),
/// returned to the pool when dropped. Meant for copies of at least [`MIN_LEN`] bytes; a
/// shorter copy is made the same way but its buffer is not kept.
pub fn copy(data: &[u8]) -> Bytes {
    let len = data.len();
    let (buf, start) = match take(len) {
        Some((mut buf, start)) => {
            zmtp_codec::copy::copy(&mut buf[start..start + len], data);
            (buf, start)
        }
        None => {
            let mut buf = Vec::with_capacity(PAGE_HEAD + len);
            let start = start_for(buf.as_ptr());
            buf.resize(start, 0);
            zmtp_codec::copy::put(&mut buf, data);
            (buf, start)
        }
    };
    into_bytes(buf, start, len)
}

/// The owner of a recycled body: its bytes are `buf[start..start + len]`.
struct Recycled {
    buf: Vec<u8>,
    start: usize,
    len: usize,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        POOL.give(std::mem::take(&mut self.buf));
    }
}

/// Chunks that small frames are cut from (read buffers, the facade's small copies), kept
/// after they are given up and taken again once no frame cut from them is alive.
///
/// A chunk is a [`BytesMut`] whose frames are split off and frozen, so it is shared with
/// them; it cannot come back to the pool when its last frame is dropped, as a body from
/// [`copy`] or [`into_bytes`] does. Instead, whoever cuts frames keeps the chunks it gave
/// up (each by its empty end) and asks each, when it needs a new one, whether it is the
/// only handle left (`BytesMut::try_reclaim`): if so the whole chunk is its again, with
/// its pages resident and likely in cache, without an allocation, a free on another
/// thread, or a new chunk's page faults. At most `limit` chunks are kept, the oldest let go first
/// (freed by its last frame, as before), so what a holder keeps beyond the frames alive is
/// at most `limit` chunks.
pub struct Chunks {
    kept: VecDeque<BytesMut>,
    limit: usize,
}

impl Chunks {
    /// Keeps at most `limit` chunks given up.
    pub const fn new(limit: usize) -> Self {
        Self {
            kept: VecDeque::new(),
            limit,
        }
    }

    /// An empty chunk of at least `size` bytes of capacity: a kept one no frame holds any
    /// more, else a new one.
    pub fn take(&mut self, size: usize) -> BytesMut {
        match self.kept.iter_mut().position(|c| c.try_reclaim(size)) {
            Some(i) => self.kept.remove(i).unwrap_or_default(),
            None => BytesMut::with_capacity(size),
        }
    }

    /// Keeps `chunk`, emptied, to be taken again once no frame holds it; past the limit,
    /// the chunk given up longest ago is let go.
    pub fn give_up(&mut self, mut chunk: BytesMut) {
        if self.limit == 0 {
            return;
        }
        // Emptied: a reclaim needs the whole chunk free.
        chunk.clear();
        if self.kept.len() == self.limit {
            self.kept.pop_front();
        }
        self.kept.push_back(chunk);
    }

    /// How many chunks are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether no chunk is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

/// How many frame bodies a thread holds back before it drops them all ([`release`]).
pub const RELEASE_BATCH: usize = 32;

std::thread_local! {
    /// The bodies this thread is done with and has not dropped yet.
    static RELEASED: RefCell<Vec<Payload>> = const { RefCell::new(Vec::new()) };
}

/// Drops a frame's body that this thread is done with, now or with the next
/// [`RELEASE_BATCH`] - 1 others (or at [`release_now`]).
///
/// For a shared body of at most [`MIN_LEN`] bytes, likely cut from a chunk that another
/// thread is cutting more frames from: dropped in a batch, the chunk's reference count is
/// taken from the other thread's core once per batch instead of at every frame (a 64-byte
/// inproc stream spent a fifth to a third of its time on that count, `perf record`).
/// Anything else is dropped at once: inline bodies hold nothing, and larger ones go back
/// to the pool, where the next large body wants them.
#[inline]
pub fn release(payload: Payload) {
    if payload.is_inline() || payload.len() > MIN_LEN {
        return;
    }
    // During the thread's teardown the closure is dropped unrun, and the body with it.
    let _ = RELEASED.try_with(move |held| {
        // A body whose drop released another (a user's buffer owner) finds it borrowed:
        // dropped at once then.
        let Ok(mut held) = held.try_borrow_mut() else {
            return;
        };
        if held.capacity() == 0 {
            held.reserve_exact(RELEASE_BATCH);
        }
        held.push(payload);
        if held.len() >= RELEASE_BATCH {
            held.clear();
        }
    });
}

/// Drops every body this thread holds back ([`release`]): before the thread waits, so that
/// what it held is not kept while it sleeps.
#[inline]
pub fn release_now() {
    let _ = RELEASED.try_with(|held| {
        if let Ok(mut held) = held.try_borrow_mut() {
            held.clear();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool of its own, so that tests running in parallel do not share buffers.
    fn pool() -> Pool {
        Pool::new()
    }

    #[test]
    fn small_shared_bodies_are_dropped_a_batch_at_a_time() {
        // Run on a thread of its own: nothing else releases there.
        std::thread::spawn(|| {
            let body = Bytes::from(vec![3u8; 100]);
            let watch = body.clone();
            release(Payload::from(body));
            assert!(!watch.is_unique(), "held back");
            for _ in 0..RELEASE_BATCH - 2 {
                release(Payload::from(Bytes::from(vec![4u8; 100])));
            }
            assert!(!watch.is_unique(), "held until the batch is full");
            release(Payload::from(Bytes::from(vec![5u8; 100])));
            assert!(watch.is_unique(), "dropped with its batch");

            let body = Bytes::from(vec![6u8; 100]);
            let watch = body.clone();
            release(Payload::from(body));
            release_now();
            assert!(watch.is_unique(), "dropped before the thread waits");

            // Larger bodies go back to the pool at once; inline ones hold nothing.
            let body = Bytes::from(vec![7u8; MIN_LEN + 1]);
            let watch = body.clone();
            release(Payload::from(body));
            assert!(watch.is_unique(), "a large body is not held back");
            release(Payload::copy_from_slice(b"inline"));
            RELEASED.with(|held| assert!(held.borrow().is_empty()));
        })
        .join()
        .expect("the releasing thread panicked");
    }

    #[test]
    fn a_returned_buffer_is_taken_again_for_a_body_it_fits() {
        let pool = pool();
        let buf = vec![7u8; 100_000];
        let at = buf.as_ptr();
        let room = 100_000 - start_for(at);
        pool.give(buf);
        assert_eq!(pool.held.load(Ordering::Relaxed), 100_000);
        // Longer than the room after the body's start: not this one.
        assert!(pool.take(room + 1).is_none());
        let (again, start) = pool.take(room).expect("same class, long enough");
        assert_eq!(again.as_ptr(), at);
        assert_eq!(start, start_for(at));
        assert_eq!(again.len(), 100_000, "initialised to its whole length");
        assert_eq!(pool.held.load(Ordering::Relaxed), 0);
        pool.give(again);
        assert!(
            pool.take(70_000).is_some(),
            "a shorter body of the same class"
        );
        assert!(pool.take(70_000).is_none(), "taken once");
    }

    #[test]
    fn a_buffer_of_the_next_class_serves_but_not_a_smaller_or_much_larger_one() {
        let pool = pool();
        pool.give(vec![0; 40_000]);
        assert!(pool.take(20_000).is_some(), "next class up");
        pool.give(vec![0; 200_000]);
        assert!(pool.take(20_000).is_none(), "more than four times the body");
        pool.give(vec![0; 16_384]);
        assert!(pool.take(20_000).is_none(), "too short");
        // Just over a power of two with its start: found in the next class.
        let buf = vec![0; 65_536];
        let start = start_for(buf.as_ptr());
        pool.give(buf);
        assert!(pool.take(65_536 - start).is_some());
    }

    #[test]
    fn the_first_large_buffer_of_a_class_goes_back_to_the_allocator() {
        let pool = pool();
        let glibc = cfg!(all(target_os = "linux", target_env = "gnu"));
        let len = 300_000;
        pool.give(vec![0; len]);
        let kept = pool.held.load(Ordering::Relaxed);
        assert_eq!(kept, if glibc { 0 } else { len }, "glibc: {glibc}");
        pool.give(vec![0; len]);
        assert_eq!(
            pool.held.load(Ordering::Relaxed),
            kept + len,
            "the next is kept"
        );
        assert!(pool.take(len - PAGE_HEAD).is_some());
        // Below glibc's threshold for mapping, the first is kept too.
        let small = GLIBC_MMAP_THRESHOLD - 1;
        let before = pool.held.load(Ordering::Relaxed);
        pool.give(vec![0; small]);
        assert_eq!(pool.held.load(Ordering::Relaxed), before + small);
    }

    #[test]
    fn bodies_never_start_in_the_head_of_a_page() {
        for offset in [0usize, 1, 16, 63, 64, 65, 2048, 4095] {
            let base = (4096 * 7 + offset) as *const u8;
            let start = start_for(base);
            assert!(start <= PAGE_HEAD);
            assert!((offset + start) % 4096 >= PAGE_HEAD, "offset {offset}");
            if offset >= PAGE_HEAD {
                assert_eq!(start, 0, "nothing skipped past the head");
            }
        }
    }

    #[test]
    fn sizes_outside_the_limits_are_not_kept() {
        let pool = pool();
        pool.give(vec![0; MIN_LEN - 1]);
        pool.give(vec![0; MAX_LEN + 1]);
        assert_eq!(pool.held.load(Ordering::Relaxed), 0);
        assert!(pool.take(MIN_LEN - 1).is_none());
        assert!(pool.take(MAX_LEN + 1).is_none());
    }

    #[test]
    fn the_pool_holds_at_most_its_bound() {
        let pool = pool();
        let limit = class_limit(MIN_LEN);
        for _ in 0..limit + 3 {
            pool.give(vec![0; MIN_LEN]);
        }
        assert_eq!(pool.held.load(Ordering::Relaxed), limit * MIN_LEN);
        // A class of large buffers keeps fewer.
        assert_eq!(class_limit(MIN_LEN), PER_CLASS_MAX);
        assert_eq!(class_limit(1024 * 1024), PER_CLASS);
        assert_eq!(class_limit(64 * 1024 + PAGE_HEAD), 63);
        let big = MAX_LEN;
        for _ in 0..(POOL_BYTES / big) + 2 {
            pool.give(vec![0; big]);
        }
        assert!(pool.held.load(Ordering::Relaxed) <= POOL_BYTES);
        let held: usize = pool
            .classes
            .iter()
            .map(|c| c.lock().iter().map(Vec::len).sum::<usize>())
            .sum();
        assert_eq!(held, pool.held.load(Ordering::Relaxed));
    }

    #[test]
    fn bytes_show_the_body_and_return_the_buffer_when_the_last_is_dropped() {
        let body = copy(&[5u8; 300_000][..]);
        assert_eq!(body.len(), 300_000);
        assert!(body.iter().all(|&b| b == 5));
        let part = body.slice(10..20);
        let mut buf = vec![1u8; 50_000];
        buf[100..30_100].fill(2);
        let bytes = into_bytes(buf, 100, 30_000);
        assert_eq!(bytes.len(), 30_000);
        assert!(bytes.iter().all(|&b| b == 2));
        drop(body);
        assert_eq!(&part[..], &[5; 10]);
        drop(part);
        drop(bytes);
        // Both buffers went to the process's pool (other tests may take them meanwhile,
        // so this only checks that the pool still keeps its bound).
        assert!(POOL.held.load(Ordering::Relaxed) <= POOL_BYTES);
    }

    #[test]
    fn a_chunk_given_up_is_taken_again_once_no_frame_holds_it() {
        let mut chunks = Chunks::new(2);
        let mut chunk = chunks.take(1024);
        assert!(chunk.capacity() >= 1024);
        let base = chunk.as_ptr();
        chunk.extend_from_slice(&[7; 1000]);
        let frame = chunk.split_to(600).freeze();
        chunks.give_up(chunk);
        // Held by `frame`: a new chunk.
        let other = chunks.take(1024);
        assert_ne!(other.as_ptr(), base);
        drop(frame);
        // Free now: the same chunk, whole again.
        let again = chunks.take(1024);
        assert_eq!(again.as_ptr(), base);
        assert!(again.is_empty() && again.capacity() >= 1024);
        assert!(chunks.is_empty());
        drop(other);
    }

    #[test]
    fn chunks_past_the_limit_are_let_go_oldest_first() {
        let mut chunks = Chunks::new(2);
        let mut frames = Vec::new();
        let mut bases = Vec::new();
        for _ in 0..3 {
            let mut chunk = chunks.take(64);
            bases.push(chunk.as_ptr());
            chunk.extend_from_slice(b"frame");
            frames.push(chunk.split().freeze());
            chunks.give_up(chunk);
        }
        assert_eq!(chunks.len(), 2);
        // The first was let go; the second, once free, is taken again.
        drop(frames.remove(0));
        drop(frames.remove(0));
        assert_eq!(chunks.take(64).as_ptr(), bases[1]);
        assert_eq!(chunks.len(), 1);
        assert_eq!(&frames[0][..], b"frame");
    }

    #[test]
    fn a_limit_of_zero_keeps_nothing() {
        let mut chunks = Chunks::new(0);
        chunks.give_up(BytesMut::with_capacity(64));
        assert!(chunks.is_empty());
    }
}
