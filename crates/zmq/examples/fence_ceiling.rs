//! What the machine allows a queue between two threads, with and without a full fence at
//! each message: one thread writes 48-byte items (the size of a pipe's frame slot) into a
//! ring of 128 and publishes its count after each, the other reads them. No ZeroMQ code
//! runs; the figures bound what an inproc stream of small messages can reach.
//!
//! ```sh
//! cargo run --release -p zmq --example fence_ceiling
//! ```
//!
//! Arguments: items per run (default 20,000,000) and runs per cell (default 3, the best
//! is printed).
//!
//! The writer publishes its count in one of four ways (the rows):
//! - `release`: a plain store (`Ordering::Release`). A reader that went to sleep could
//!   miss it, so a blocking queue cannot publish this way alone.
//! - `fenced`: the count is swapped in (`Ordering::SeqCst`, a locked instruction on x86),
//!   as `zmq_transport::pipe::Writer::flush` stores its message count before it loads the
//!   reader's waiting flag.
//! - `mfence`: a plain store, then a full fence on its own (`fence(SeqCst)`): the other
//!   way to order the count before a load, with no locked instruction on the count's line.
//! - `ahead`: as `fenced`, and before it fills a slot, the writer asks for the cache line
//!   of the slot 4 ahead (`zmq_transport::cache::prefetch_write`), as the pipe's writer
//!   does, so that the line the reader read on the ring's last lap comes back before the
//!   store into it. Here the writer does nothing else, and four slots are less time than
//!   a line takes to come; in a stream of messages they are more.
//!
//! The reader follows it in one of two ways (the columns):
//! - `close`: it reads each item as soon as the count shows it, and polls the count
//!   again at once when it has read all it knew of.
//! - `batch`: it lets the writer get 8 items ahead before it reads (polling the count
//!   four pause instructions apart meanwhile), as a pipe's reader that trails a stream
//!   does (`zmq_transport::pipe::Reader`, `trails_stream`).
//!
//! PERFORMANCE.md, "The fourteenth pass", "The fifteenth pass" and "The eighteenth
//! pass", has the figures of this machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

/// Slots in the ring: the two 64-slot chunks a pipe's frame queue cycles through.
const RING: usize = 128;
/// Words per item: a pipe slot holds a 48-byte frame.
const WORDS: usize = 6;

/// A counter on a cache line of its own, as the pipe's are.
#[repr(align(128))]
struct Padded(AtomicU64);

struct Ring {
    /// Items written (the writer's count).
    written: Padded,
    /// Items read (the reader's count, published every 256 items and when it catches up).
    read: Padded,
    slots: Vec<[AtomicU64; WORDS]>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Release,
    Fenced,
    Mfence,
    FencedAhead,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Fenced => "fenced",
            Self::Mfence => "mfence",
            Self::FencedAhead => "ahead",
        }
    }
}

/// How far behind the writer the reader stays: at least this many items, unless the
/// count stops growing (then it reads what is there).
#[derive(Clone, Copy, PartialEq)]
enum Follow {
    Close,
    Batch,
}

impl Follow {
    fn name(self) -> &'static str {
        match self {
            Self::Close => "close",
            Self::Batch => "batch",
        }
    }

    fn lag(self) -> u64 {
        match self {
            Self::Close => 1,
            Self::Batch => 8,
        }
    }
}

/// How many slots ahead of the one it fills the `ahead` writer asks for a slot's line,
/// as the pipe's writer does (`zmq_transport::pipe`'s frame queue).
const AHEAD: usize = 4;

/// Pause instructions between two polls of a reader that waits for a batch.
const BATCH_PAUSES: u32 = 4;

/// Items per second of one run.
fn run(mode: Mode, follow: Follow, items: u64) -> f64 {
    let ring = Arc::new(Ring {
        written: Padded(AtomicU64::new(0)),
        read: Padded(AtomicU64::new(0)),
        slots: (0..RING)
            .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
            .collect(),
    });
    let reader_ring = ring.clone();
    let start = Instant::now();
    let reader = thread::spawn(move || {
        let ring = reader_ring;
        let (mut read, mut seen, mut sum) = (0u64, 0u64, 0u64);
        while read < items {
            if read == seen {
                seen = ring.written.0.load(Ordering::Acquire);
                // Wait for a batch while the count keeps growing (the last items of the
                // run come without one).
                let mut last = read;
                while seen - read < follow.lag() && seen != last && seen < items {
                    for _ in 0..BATCH_PAUSES {
                        std::hint::spin_loop();
                    }
                    last = seen;
                    seen = ring.written.0.load(Ordering::Acquire);
                }
                if read == seen {
                    std::hint::spin_loop();
                    continue;
                }
            }
            let slot = &ring.slots[read as usize % RING];
            for word in slot {
                sum = sum.wrapping_add(word.load(Ordering::Relaxed));
            }
            read += 1;
            if read % 256 == 0 || read == seen {
                ring.read.0.store(read, Ordering::Release);
            }
        }
        sum
    });
    let (mut written, mut read_seen) = (0u64, 0u64);
    while written < items {
        if written - read_seen >= RING as u64 {
            read_seen = ring.read.0.load(Ordering::Acquire);
            if written - read_seen >= RING as u64 {
                std::hint::spin_loop();
                continue;
            }
        }
        if mode == Mode::FencedAhead {
            let ahead = &ring.slots[(written as usize + AHEAD) % RING];
            zmq_transport::cache::prefetch_write(ahead.as_ptr().cast());
        }
        for (i, word) in ring.slots[written as usize % RING].iter().enumerate() {
            word.store(written + i as u64, Ordering::Relaxed);
        }
        written += 1;
        match mode {
            Mode::Release => ring.written.0.store(written, Ordering::Release),
            Mode::Fenced | Mode::FencedAhead => {
                ring.written.0.swap(written, Ordering::SeqCst);
            }
            Mode::Mfence => {
                ring.written.0.store(written, Ordering::Release);
                std::sync::atomic::fence(Ordering::SeqCst);
            }
        }
    }
    let sum = reader.join().expect("the reader thread does not panic");
    let elapsed = start.elapsed().as_secs_f64();
    // Every word was read: the sum of `n + i` over all items and words.
    let expected = (0..items).fold(0u64, |acc, n| {
        (0..WORDS as u64).fold(acc, |acc, i| acc.wrapping_add(n + i))
    });
    assert_eq!(sum, expected, "the reader saw every item whole");
    items as f64 / elapsed
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let items: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    println!(
        "{items} items of {} bytes, best of {runs} runs; M items/s (ns per item)",
        WORDS * 8
    );
    let follows = [Follow::Close, Follow::Batch];
    print!("{:<8}", "writer");
    for follow in follows {
        print!(" {:>18}", format!("reader {}", follow.name()));
    }
    println!();
    for mode in [Mode::Release, Mode::Fenced, Mode::Mfence, Mode::FencedAhead] {
        print!("{:<8}", mode.name());
        for follow in follows {
            let best = (0..runs)
                .map(|_| run(mode, follow, items))
                .fold(0.0_f64, f64::max);
            print!(" {:>18}", format!("{:.1} ({:.1})", best / 1e6, 1e9 / best));
        }
        println!();
    }
}
