//! The frames of one queue: a single-producer, single-consumer list of chunks.
//!
//! The shape of libzmq's `yqueue_t`: frames are written into fixed chunks of slots linked
//! one after the other; the writer fills the last chunk, the reader empties the first, and
//! a chunk the reader has left is handed back to the writer (one spare, as libzmq keeps),
//! so a stream reuses a few warm chunks instead of allocating. Neither side makes a
//! read-modify-write per frame: the writer makes its frames visible in batches, with one
//! store of its count ([`FrameTx::publish`], at each flush of the pipe), and the reader
//! loads that count only when it has read every frame it knew of. (The queue used before,
//! `crossbeam_queue::SegQueue`, is for many producers and consumers: two atomic
//! read-modify-writes per push and two per pop, one of them on the slot the other core had
//! just written; its pop was 7% of a receiving process's time in a 1-byte stream.)
//!
//! The queue has no bound of its own: the pipe counts messages against its high-water
//! mark above it. A queue holds one chunk (3 KiB) from its creation on, as libzmq's holds
//! one of 256 messages (16 KiB).
//!
//! `unsafe`: the slots are written by one thread and read by another without a lock. Each
//! block says why it is sound; the model tests below (`--cfg loom`, run by `cargo xtask
//! loom`) check the protocol under every interleaving loom explores, and the `pipe_ops`
//! fuzz target runs it under AddressSanitizer.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;
use std::ptr;

use super::sync::{Arc, AtomicPtr, AtomicU64, Ordering, UnsafeCell};
use super::Padded;

/// Frames per chunk: 64 frames of 48 bytes are 3 KiB, so a queue a fast reader keeps
/// nearly empty touches two chunks, and a full one (the default high-water mark, 1000
/// messages) about 16.
#[cfg(not(all(loom, test)))]
const CHUNK: usize = 64;
/// Small under the model test, so that its few frames cross chunks.
#[cfg(all(loom, test))]
const CHUNK: usize = 2;

struct Chunk<T> {
    slots: [UnsafeCell<MaybeUninit<T>>; CHUNK],
    /// The chunk the writer went on with (set before any frame is written into it).
    next: AtomicPtr<Self>,
}

impl<T> Chunk<T> {
    fn alloc() -> *mut Self {
        Box::into_raw(Box::new(Self {
            slots: std::array::from_fn(|_| UnsafeCell::new(MaybeUninit::uninit())),
            next: AtomicPtr::new(ptr::null_mut()),
        }))
    }

    /// Frees a chunk whose frames were all read or dropped.
    ///
    /// # Safety
    /// `chunk` came from [`Chunk::alloc`], is freed once, and nobody uses it after.
    unsafe fn free(chunk: *mut Self) {
        // SAFETY: as the caller promises; `MaybeUninit` slots drop nothing.
        drop(unsafe { Box::from_raw(chunk) });
    }
}

/// A position in the list: a chunk, the next slot in it, and the frames passed so far.
struct Cursor<T> {
    chunk: *mut Chunk<T>,
    slot: usize,
    count: u64,
}

impl<T> Cursor<T> {
    fn new(first: *mut Chunk<T>) -> Self {
        Self {
            chunk: first,
            slot: 0,
            count: 0,
        }
    }
}

/// Each field on cache lines of its own: the tail moves with every push on the writer's
/// core, the head with every pop on the reader's, and `published` with every flush; on
/// one line, each would move it between the cores.
struct Inner<T> {
    /// Frames the writer has published: the reader may read up to this count.
    published: Padded<AtomicU64>,
    /// A chunk the reader has left, for the writer's next one (null: none).
    spare: Padded<AtomicPtr<Chunk<T>>>,
    /// The writer's position; touched by the [`FrameTx`] alone, and by `drop`.
    tail: Padded<UnsafeCell<Cursor<T>>>,
    /// The reader's position; touched by the [`FrameRx`] alone, and by `drop`.
    head: Padded<UnsafeCell<Cursor<T>>>,
}

// SAFETY: the cursors are each used by one side only (one `FrameTx` and one `FrameRx` per
// queue, neither `Clone`, and every method that touches a cursor takes `&mut self`), and
// the slots are handed over through `published` (release/acquire) and chunks back through
// `spare`; the frames themselves cross threads, hence `T: Send`.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// How many slots ahead of the one it fills the writer asks for the cache line of the
/// slot it will fill then ([`prefetch_slot`]): 192 bytes, three lines, a few messages'
/// time ahead of a stream. (2 did as well in a 1-byte inproc stream, 8 and 16 worse: the
/// lines came in too early, and went back to a reader that polls.)
const PREFETCH_AHEAD: usize = 4;

/// Asks for the cache line of slot `slot` of `chunk` to be brought to this core for
/// writing (`PREFETCHW`), without waiting for it. The writer fills a chunk the reader has
/// read before (the spare one, or the one it reads now), so each line of it is in the
/// reader's cache, and the writer's store into it must take it back first. Taken at the
/// store, that transfer held the store in the core's buffer until the line came, and the
/// fenced count of the next flush waited for it: 43% of the writing thread's samples in
/// a 1-byte inproc stream, which ran at 15-16 M messages per second, and 21-24 M with the
/// line asked for a few slots ahead (PERFORMANCE.md, "The eighteenth pass").
///
/// # Safety
/// `chunk` is live (no other condition: a prefetch reads and writes nothing, and faults on
/// no address).
#[inline(always)]
unsafe fn prefetch_slot<T>(chunk: *mut Chunk<T>, slot: usize) {
    #[cfg(not(all(loom, test)))]
    // SAFETY: `chunk` is live (the caller's promise), so the slot is there to point at.
    crate::cache::prefetch_write(unsafe { (*chunk).slots[slot].with(|p| p) }.cast());
    #[cfg(all(loom, test))]
    let _ = (chunk, slot);
}

/// The writing side of a frame queue.
pub(super) struct FrameTx<T> {
    inner: Arc<Inner<T>>,
}

/// The reading side of a frame queue.
pub(super) struct FrameRx<T> {
    inner: Arc<Inner<T>>,
    /// `published` when last loaded: frames up to it are there without loading it again.
    seen: u64,
}

/// A new, empty queue of frames.
pub(super) fn frames<T: Send>() -> (FrameTx<T>, FrameRx<T>) {
    let first = Chunk::alloc();
    let inner = Arc::new(Inner {
        published: Padded(AtomicU64::new(0)),
        spare: Padded(AtomicPtr::new(ptr::null_mut())),
        tail: Padded(UnsafeCell::new(Cursor::new(first))),
        head: Padded(UnsafeCell::new(Cursor::new(first))),
    });
    (
        FrameTx {
            inner: inner.clone(),
        },
        FrameRx { inner, seen: 0 },
    )
}

impl<T: Send> FrameTx<T> {
    /// Appends a frame; the reader sees it after the next [`FrameTx::publish`].
    #[inline]
    pub(super) fn push(&mut self, frame: T) {
        let inner = &*self.inner;
        inner.tail.with_mut(|tail| {
            // SAFETY: only this `FrameTx` (`&mut self`) touches the tail cursor.
            let tail = unsafe { &mut *tail };
            if tail.slot == CHUNK {
                let taken = inner.spare.swap(ptr::null_mut(), Ordering::Acquire);
                let next = if taken.is_null() {
                    Chunk::alloc()
                } else {
                    // SAFETY: the reader left this chunk (it swapped it in with release
                    // ordering, after its last read of a slot, which the acquire above
                    // orders before our writes) and never goes back to it; its `next`
                    // is reset before the chunk is linked again.
                    unsafe { (*taken).next.store(ptr::null_mut(), Ordering::Relaxed) };
                    taken
                };
                // SAFETY: the tail chunk is live: the reader frees or recycles a chunk
                // only once it has moved on to the chunk linked from it, which is not
                // linked yet. The release store pairs with the reader's acquire load,
                // after it saw (through `published`) a frame written into `next`.
                unsafe { (*tail.chunk).next.store(next, Ordering::Release) };
                tail.chunk = next;
                tail.slot = 0;
                for slot in 0..PREFETCH_AHEAD {
                    // SAFETY: the new tail chunk is live.
                    unsafe { prefetch_slot(next, slot) };
                }
            }
            // SAFETY: the slot is in the live tail chunk, past every published frame, so
            // the reader does not read it before the next publish; it holds no frame (a
            // fresh or recycled chunk's slots were all read or never written).
            unsafe {
                (*tail.chunk).slots[tail.slot].with_mut(|slot| (*slot).write(frame));
            }
            if tail.slot + PREFETCH_AHEAD < CHUNK {
                // SAFETY: the tail chunk is live.
                unsafe { prefetch_slot(tail.chunk, tail.slot + PREFETCH_AHEAD) };
            }
            tail.slot += 1;
            tail.count += 1;
        });
    }

    /// Makes every frame pushed so far visible to the reader.
    pub(super) fn publish(&mut self) {
        // SAFETY: only this `FrameTx` touches the tail cursor.
        let count = self.inner.tail.with(|tail| unsafe { (*tail).count });
        self.inner.published.store(count, Ordering::Release);
    }
}

impl<T: Send> FrameRx<T> {
    /// Whether a published frame is there, with `head` moved onto its chunk; `seen` is
    /// the reader's last load of `published`.
    #[inline(always)]
    fn advance(inner: &Inner<T>, seen: &mut u64, head: &mut Cursor<T>) -> bool {
        if head.count == *seen {
            *seen = inner.published.load(Ordering::Acquire);
            if head.count == *seen {
                return false;
            }
        }
        if head.slot == CHUNK {
            // SAFETY: a published frame lies beyond this chunk, so the writer linked the
            // next chunk before writing it and published after (the acquire load of
            // `published` above, or an earlier one, orders the link before us).
            let next = unsafe { (*head.chunk).next.load(Ordering::Acquire) };
            if next.is_null() {
                // Not reachable while `published` is only ever moved by `publish`.
                return false;
            }
            let left = std::mem::replace(&mut head.chunk, next);
            head.slot = 0;
            let old = inner.spare.swap(left, Ordering::Release);
            if !old.is_null() {
                // SAFETY: a chunk in `spare` is owned by whoever takes it out; the writer
                // did not, so it is ours, and unreferenced.
                unsafe { Chunk::free(old) };
            }
        }
        true
    }

    /// The next published frame, if any.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<T> {
        let inner = &*self.inner;
        inner.head.with_mut(|head| {
            // SAFETY: only this `FrameRx` (`&mut self`) touches the head cursor.
            let head = unsafe { &mut *head };
            if !Self::advance(inner, &mut self.seen, head) {
                return None;
            }
            // SAFETY: the slot holds a published frame (count < seen), written before the
            // writer's release store of `published` that our acquire load saw; it is read
            // once, as the cursor moves past it.
            let frame =
                unsafe { (*head.chunk).slots[head.slot].with(|slot| (*slot).assume_init_read()) };
            head.slot += 1;
            head.count += 1;
            Some(frame)
        })
    }

    /// [`FrameRx::pop`] into `out`, in place of the value there: returns whether there was
    /// a frame (`out` is unchanged if not). The frame is copied from its slot to `out` in
    /// one block, and the value it replaces is dropped after.
    #[inline]
    pub(super) fn pop_into(&mut self, out: &mut T) -> bool {
        let inner = &*self.inner;
        inner.head.with_mut(|head| {
            // SAFETY: only this `FrameRx` (`&mut self`) touches the head cursor.
            let head = unsafe { &mut *head };
            if !Self::advance(inner, &mut self.seen, head) {
                return false;
            }
            // SAFETY: as in `pop`: the slot holds a published frame, read once as the
            // cursor moves past it. `old` takes `out`'s value before the slot's frame is
            // copied over it, and is dropped after, so `out` always holds a live value.
            unsafe {
                let old = ptr::read(out);
                (*head.chunk).slots[head.slot].with(|slot| {
                    ptr::copy_nonoverlapping((*slot).as_ptr(), out as *mut T, 1);
                });
                head.slot += 1;
                head.count += 1;
                drop(old);
            }
            true
        })
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        // Both sides are gone: every frame between the cursors was written and not read.
        let (mut chunk, mut slot, mut count) = self.head.with_mut(|head| {
            // SAFETY: `&mut self`: nobody else uses the cursors any more.
            let head = unsafe { &*head };
            (head.chunk, head.slot, head.count)
        });
        // SAFETY: as above.
        let end = self.tail.with_mut(|tail| unsafe { (*tail).count });
        loop {
            while count < end && slot < CHUNK {
                // SAFETY: a written, unread frame (between the cursors), dropped once.
                unsafe { (*chunk).slots[slot].with_mut(|s| (*s).assume_init_drop()) };
                slot += 1;
                count += 1;
            }
            // SAFETY: every chunk from the head's on is live and linked by the writer.
            let next = unsafe { (*chunk).next.load(Ordering::Acquire) };
            // SAFETY: its frames are dropped above and nothing refers to it.
            unsafe { Chunk::free(chunk) };
            if next.is_null() {
                break;
            }
            chunk = next;
            slot = 0;
        }
        let spare = self.spare.swap(ptr::null_mut(), Ordering::Acquire);
        if !spare.is_null() {
            // SAFETY: a spare chunk is unreferenced and holds no frame.
            unsafe { Chunk::free(spare) };
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Counts its drops, to show each frame is dropped exactly once.
    struct Counted(u64, Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn frames_come_out_in_order_once_published_across_chunks() {
        let (mut tx, mut rx) = frames::<u64>();
        assert_eq!(rx.pop(), None);
        for round in 0..5u64 {
            let n = CHUNK as u64 * 3 + round;
            let base = round * 1000;
            for i in 0..n {
                tx.push(base + i);
            }
            assert_eq!(rx.pop(), None, "nothing is seen before the publish");
            tx.publish();
            for i in 0..n {
                assert_eq!(rx.pop(), Some(base + i));
            }
            assert_eq!(rx.pop(), None);
        }
    }

    #[test]
    fn a_stream_reuses_the_chunk_the_reader_left() {
        let (mut tx, mut rx) = frames::<u64>();
        let mut chunks = std::collections::HashSet::new();
        for i in 0..CHUNK as u64 * 10 {
            tx.push(i);
            tx.publish();
            assert_eq!(rx.pop(), Some(i));
            // SAFETY: this thread is both sides; the cursor is only read.
            chunks.insert(tx.inner.tail.with(|tail| unsafe { (*tail).chunk }) as usize);
        }
        // Ten chunks' worth of frames, each read before the next is written: the writer
        // goes on in the chunk the reader left before the last, never a new one.
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn unread_frames_are_dropped_with_the_queue() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = frames::<Counted>();
        let total = CHUNK as u64 * 2 + 5;
        for i in 0..total {
            tx.push(Counted(i, drops.clone()));
            if i == CHUNK as u64 {
                tx.publish();
            }
        }
        // Some read, some published and unread, some never published.
        for i in 0..3 {
            assert_eq!(rx.pop().map(|c| c.0), Some(i));
        }
        assert_eq!(drops.load(Ordering::Relaxed), 3);
        drop(rx);
        assert_eq!(
            drops.load(Ordering::Relaxed),
            3,
            "the writer still holds the queue"
        );
        drop(tx);
        assert_eq!(drops.load(Ordering::Relaxed), total as usize);
    }

    #[test]
    fn a_frame_taken_into_a_place_replaces_its_value_which_is_dropped_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = frames::<Counted>();
        let mut place = Counted(u64::MAX, drops.clone());
        assert!(!rx.pop_into(&mut place), "nothing published yet");
        assert_eq!((place.0, drops.load(Ordering::Relaxed)), (u64::MAX, 0));
        let total = CHUNK as u64 * 2 + 3;
        for i in 0..total {
            tx.push(Counted(i, drops.clone()));
        }
        tx.publish();
        for i in 0..total {
            // Alternating the two ways of reading: each sees the next frame, once.
            if i % 3 == 0 {
                assert_eq!(rx.pop().map(|c| c.0), Some(i));
            } else {
                assert!(rx.pop_into(&mut place));
                assert_eq!(place.0, i);
            }
        }
        assert!(!rx.pop_into(&mut place), "every frame was read");
        assert_eq!(place.0, total - 1, "left as it was");
        // Each replaced value and each frame popped by value is dropped once; the one in
        // the place is not.
        assert_eq!(drops.load(Ordering::Relaxed), total as usize);
        drop(place);
        drop((tx, rx));
        assert_eq!(drops.load(Ordering::Relaxed), total as usize + 1);
    }

    #[test]
    fn a_writer_and_a_reader_on_two_threads_pass_every_frame_in_order() {
        const N: u64 = 300_000;
        let (mut tx, mut rx) = frames::<Box<u64>>();
        let writer = std::thread::spawn(move || {
            let mut batch = 1;
            let mut i = 0;
            while i < N {
                for _ in 0..batch.min(N - i) {
                    tx.push(Box::new(i));
                    i += 1;
                }
                tx.publish();
                batch = batch * 7 % 97 + 1;
            }
        });
        let mut next = 0;
        while next < N {
            match rx.pop() {
                Some(frame) => {
                    assert_eq!(*frame, next);
                    next += 1;
                }
                None => std::hint::spin_loop(),
            }
        }
        writer.join().unwrap();
        assert!(rx.pop().is_none());
    }
}

/// The model test: loom runs these under every interleaving it explores (`CHUNK` is 2, so
/// a few frames cross chunks and the spare is handed back and forth).
#[cfg(all(test, loom))]
mod model {
    use loom::sync::atomic::AtomicUsize;

    use super::*;

    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn frames_cross_threads_in_order_through_chunks_and_the_spare() {
        loom::model(|| {
            let (mut tx, mut rx) = frames::<u64>();
            let writer = loom::thread::spawn(move || {
                for batch in [[0, 1, 2], [3, 4, 5]] {
                    for i in batch {
                        tx.push(i);
                    }
                    tx.publish();
                }
            });
            let mut next = 0;
            let mut place = u64::MAX;
            while next < 6 {
                // Both ways of reading, in turn.
                let got = if next % 2 == 0 {
                    rx.pop()
                } else {
                    rx.pop_into(&mut place).then_some(place)
                };
                match got {
                    Some(i) => {
                        assert_eq!(i, next);
                        next += 1;
                    }
                    None => loom::thread::yield_now(),
                }
            }
            writer.join().unwrap();
        });
    }

    #[test]
    fn frames_left_when_both_sides_go_are_dropped_once() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let (mut tx, mut rx) = frames::<Counted>();
            let counter = drops.clone();
            let writer = loom::thread::spawn(move || {
                for i in 0..5 {
                    tx.push(Counted(counter.clone()));
                    if i % 2 == 1 {
                        tx.publish();
                    }
                }
            });
            let mut read = 0;
            for _ in 0..3 {
                if rx.pop().is_some() {
                    read += 1;
                }
            }
            drop(rx);
            writer.join().unwrap();
            assert!(read <= 4);
            assert_eq!(drops.load(Ordering::Relaxed), 5);
        });
    }
}
