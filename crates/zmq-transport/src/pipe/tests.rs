use std::sync::{Condvar, Mutex as StdMutex};
use std::thread;
use std::time::Duration;

use bytes::Bytes;

use super::*;

/// Records wake-ups and lets a thread sleep until one comes.
#[derive(Default)]
struct Recorder {
    events: StdMutex<Vec<(u64, Wakeup)>>,
    cond: Condvar,
}

impl Wake for Recorder {
    fn wake(&self, token: u64, why: Wakeup) {
        self.events.lock().unwrap().push((token, why));
        self.cond.notify_all();
    }
}

impl Recorder {
    fn take(&self) -> Vec<(u64, Wakeup)> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }

    fn wait(&self) {
        let guard = self.events.lock().unwrap();
        let _unused = self
            .cond
            .wait_timeout_while(guard, Duration::from_secs(10), |e| e.is_empty())
            .unwrap();
    }
}

fn frame(data: &'static [u8], more: bool) -> Frame {
    Frame::new(data, more)
}

#[test]
fn messages_are_published_whole() {
    let (mut w, mut r) = queue(0);
    w.write(frame(b"a", true));
    w.flush();
    assert_eq!(r.read(), Read::Empty, "half a message is not readable");
    w.write(frame(b"b", false));
    w.write(frame(b"c", true));
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"a", true)));
    assert_eq!(r.read(), Read::Frame(frame(b"b", false)));
    assert_eq!(r.read(), Read::Empty);
    w.write(frame(b"d", false));
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"c", true)));
    assert_eq!(r.read(), Read::Frame(frame(b"d", false)));
}

#[test]
fn a_frame_read_into_a_place_is_the_frame_a_read_returns() {
    for conflate in [false, true] {
        let (mut w, mut r) = queue(0);
        w.set_conflate(conflate);
        let mut place = Frame::new(Bytes::from(vec![0xee; 64]), true);
        assert!(!r.next_frame_into(&mut place));
        assert_eq!(
            place,
            Frame::new(Bytes::from(vec![0xee; 64]), true),
            "unchanged"
        );
        w.write(frame(b"a", true));
        w.write(frame(b"b", false));
        w.flush();
        assert!(r.next_frame_into(&mut place));
        assert_eq!(place, frame(b"a", true));
        // The rest of the message, either way.
        assert_eq!(r.next_frame(), Some(frame(b"b", false)));
        w.write(frame(b"c", false));
        w.flush();
        assert!(r.next_frame_into(&mut place));
        assert_eq!(place, frame(b"c", false));
        assert!(!r.next_frame_into(&mut place), "conflate: {conflate}");
        assert_eq!(place, frame(b"c", false));
        w.close();
        assert!(!r.next_frame_into(&mut place));
        assert!(r.is_finished());
        assert_eq!(r.read(), Read::Closed);
    }
}

#[test]
fn a_frame_written_from_a_place_is_taken_from_it() {
    for conflate in [false, true] {
        let (mut w, mut r) = queue(0);
        w.set_conflate(conflate);
        let mut place = frame(b"a", true);
        w.write_from(&mut place);
        assert_eq!(place, Frame::default(), "taken, an empty frame left");
        let mut place = Frame::new(Bytes::from(vec![0xee; 64]), false);
        w.write_from(&mut place);
        assert_eq!(place, Frame::default());
        // A single-frame message, which goes straight into the queue.
        let mut place = frame(b"c", false);
        w.write_from(&mut place);
        w.flush();
        if !conflate {
            assert_eq!(r.next_frame(), Some(frame(b"a", true)));
            assert_eq!(
                r.next_frame(),
                Some(Frame::new(Bytes::from(vec![0xee; 64]), false))
            );
        }
        assert_eq!(
            r.next_frame(),
            Some(frame(b"c", false)),
            "conflate: {conflate}"
        );
        assert_eq!(r.next_frame(), None);
        // After the reader closed, taken and dropped.
        drop(r);
        let mut place = frame(b"d", false);
        w.write_from(&mut place);
        assert_eq!(place, Frame::default());
    }
}

#[test]
fn rollback_drops_only_the_unfinished_message() {
    let (mut w, mut r) = queue(0);
    w.write(frame(b"whole", false));
    w.write(frame(b"half", true));
    assert!(w.in_message());
    w.rollback();
    assert!(!w.in_message());
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"whole", false)));
    assert_eq!(r.read(), Read::Empty);
}

#[test]
fn a_waiting_reader_is_woken_once() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(0);
    r.set_waker(rec.clone(), 7);
    w.write(frame(b"x", false));
    w.flush();
    assert!(
        rec.take().is_empty(),
        "a reader that never waited is not woken"
    );
    assert!(matches!(r.read(), Read::Frame(_)));
    assert_eq!(r.read(), Read::Empty);
    for _ in 0..3 {
        w.write(frame(b"y", false));
        w.flush();
    }
    assert_eq!(
        rec.take(),
        [(7, Wakeup::Readable)],
        "one wake-up per transition"
    );
}

#[test]
fn high_water_mark_and_low_water_mark() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(4);
    w.set_waker(rec.clone(), 1);
    for _ in 0..4 {
        assert!(w.can_write());
        w.write(frame(b"m", false));
    }
    assert!(
        !w.can_write(),
        "4 messages written, not yet flushed, fill an HWM of 4"
    );
    w.flush();
    assert!(!w.can_write());
    // The low-water mark of 4 is 2: the writer is woken when 2 are left.
    assert!(matches!(r.read(), Read::Frame(_)));
    assert!(rec.take().is_empty());
    assert!(matches!(r.read(), Read::Frame(_)));
    assert_eq!(rec.take(), [(1, Wakeup::Writable)]);
    assert!(w.can_write());
    assert_eq!(w.queued(), 2);
}

#[test]
fn a_reader_reports_its_reads_in_batches_and_whenever_it_matters() {
    let rec = Arc::new(Recorder::default());
    // A mark of 160: the reader reports at least every 20 messages (publish_lag).
    let (mut w, mut r) = queue(160);
    w.set_waker(rec.clone(), 1);
    for _ in 0..100 {
        w.write(frame(b"m", false));
        w.flush();
    }
    for _ in 0..10 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    // Ten reads of a hundred known: not reported yet.
    assert_eq!(w.queued(), 100);
    for _ in 0..10 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    assert_eq!(w.queued(), 80, "reported at the twentieth read");
    for _ in 0..80 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    assert_eq!(w.queued(), 0, "every message known was read: reported");
    assert_eq!(r.read(), Read::Empty);

    // A writer that finds the queue full waits for the low-water mark (80): reads are
    // still reported in batches, and the read that reaches the mark wakes it.
    for _ in 0..160 {
        assert!(w.can_write());
        w.write(frame(b"m", false));
        w.flush();
    }
    assert!(!w.can_write());
    for _ in 0..79 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    assert!(rec.take().is_empty());
    assert_eq!(w.queued(), 100, "reported at the 20th, 40th and 60th reads");
    assert!(matches!(r.read(), Read::Frame(_)));
    assert_eq!(w.queued(), 80);
    assert_eq!(rec.take(), [(1, Wakeup::Writable)]);
    assert!(w.can_write());
}

#[test]
fn close_from_either_side() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(0);
    r.set_waker(rec.clone(), 3);
    w.write(frame(b"last", false));
    w.write(frame(b"cut", true));
    w.close();
    assert_eq!(rec.take(), [(3, Wakeup::Closed)]);
    assert_eq!(r.read(), Read::Frame(frame(b"last", false)));
    assert_eq!(r.read(), Read::Closed);

    let (mut w, mut r) = queue(1);
    w.set_waker(rec.clone(), 4);
    w.write(frame(b"x", false));
    w.flush();
    r.close();
    assert_eq!(rec.take(), [(4, Wakeup::Closed)]);
    assert!(w.is_reader_closed());
    assert!(
        w.can_write(),
        "writes to a closed reader are discarded, never blocked"
    );
    w.write(frame(b"y", false));
    w.flush();
    drop(r);
}

#[test]
fn dropping_the_writer_closes() {
    let (w, mut r) = queue(0);
    drop(w);
    assert_eq!(r.read(), Read::Closed);
}

#[test]
fn threaded_stream_with_blocking_on_both_sides() {
    threaded_stream(200_000, false);
}

/// Streams `messages` two-frame messages from a thread to this one through a queue with a
/// mark of 100, each side blocking (on its wake-ups) when it cannot go on; the reader
/// polls when it catches up if `catch_up`.
fn threaded_stream(messages: u64, catch_up: bool) {
    let (mut w, mut r) = queue(100);
    let writer_rec = Arc::new(Recorder::default());
    let reader_rec = Arc::new(Recorder::default());
    w.set_waker(writer_rec.clone(), 0);
    r.set_waker(reader_rec.clone(), 0);
    r.set_catch_up_spin(catch_up);
    let producer = thread::spawn(move || {
        for i in 0..messages {
            while !w.can_write() {
                writer_rec.wait();
                writer_rec.take();
            }
            w.write(Frame::more(Bytes::copy_from_slice(&i.to_be_bytes())));
            w.write(Frame::last(Bytes::new()));
            w.flush();
        }
    });
    let mut expected = 0u64;
    loop {
        match r.read() {
            Read::Frame(f) => {
                assert!(f.more);
                assert_eq!(f.data[..], expected.to_be_bytes());
                assert_eq!(r.read(), Read::Frame(Frame::last(Bytes::new())));
                expected += 1;
            }
            Read::Empty => {
                reader_rec.wait();
                reader_rec.take();
            }
            Read::Closed => break,
        }
    }
    producer.join().unwrap();
    assert_eq!(expected, messages, "nothing lost, nothing reordered");
}

#[test]
fn a_hiccup_drops_what_was_queued_before_the_writer_acknowledged_it() {
    let (mut w, mut r) = queue(0);
    let rec = Arc::new(Recorder::default());
    w.set_waker(rec.clone(), 7);
    r.set_waker(rec.clone(), 8);
    w.write(frame(b"first connection", false));
    w.flush();
    // The first connection is not a hiccup: what was queued is for it.
    r.hiccup();
    assert!(rec.take().is_empty());
    assert_eq!(r.read(), Read::Frame(frame(b"first connection", false)));
    w.write(frame(b"old", true));
    w.write(frame(b"old 2", false));
    w.flush();
    r.hiccup();
    assert_eq!(rec.take(), [(7, Wakeup::Hiccup)]);
    w.write(frame(b"still old", false));
    w.flush();
    assert_eq!(
        r.read(),
        Read::Empty,
        "nothing is read until the acknowledgement"
    );
    w.hiccup_ack();
    // The acknowledgement wakes the reader (the flush above may have too).
    assert_eq!(rec.take().last(), Some(&(8, Wakeup::Readable)));
    assert_eq!(r.read(), Read::Empty);
    w.write(frame(b"new", false));
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"new", false)));
    assert_eq!(r.read(), Read::Empty);
}

#[test]
fn closing_the_writer_ends_a_hiccup_nobody_will_acknowledge() {
    let (mut w, mut r) = queue(0);
    w.write(frame(b"m", false));
    w.flush();
    r.hiccup();
    r.hiccup();
    assert_eq!(r.read(), Read::Empty);
    w.close();
    assert_eq!(r.read(), Read::Frame(frame(b"m", false)));
    assert_eq!(r.read(), Read::Closed);
}

#[test]
fn a_conflating_queue_keeps_only_the_last_message() {
    let (mut w, mut r) = queue(2);
    w.set_conflate(true);
    for i in 0..10u8 {
        assert!(w.can_write(), "no high-water mark applies when conflating");
        w.write(Frame::new(Bytes::from(vec![i]), false));
        w.flush();
    }
    assert_eq!(
        r.read(),
        Read::Frame(Frame::new(Bytes::from(vec![9u8]), false))
    );
    assert_eq!(r.read(), Read::Empty);
    // Several messages in one flush: the last whole one wins, parts included.
    w.write(frame(b"a", false));
    w.write(frame(b"b", true));
    w.write(frame(b"c", false));
    w.write(frame(b"d", true));
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"b", true)));
    assert_eq!(r.read(), Read::Frame(frame(b"c", false)));
    assert_eq!(r.read(), Read::Empty);
    w.write(frame(b"e", false));
    w.flush();
    assert_eq!(r.read(), Read::Frame(frame(b"d", true)));
    assert_eq!(r.read(), Read::Frame(frame(b"e", false)));
    w.close();
    assert_eq!(r.read(), Read::Closed);
}

#[test]
fn a_conflating_reader_is_woken_once_per_empty_to_full() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(0);
    w.set_conflate(true);
    r.set_waker(rec.clone(), 7);
    assert_eq!(r.read(), Read::Empty);
    w.write(frame(b"x", false));
    w.flush();
    w.write(frame(b"y", false));
    w.flush();
    assert_eq!(rec.take(), vec![(7, Wakeup::Readable)]);
    assert_eq!(r.read(), Read::Frame(frame(b"y", false)));
}

#[test]
fn raising_the_mark_wakes_a_waiting_writer_and_lowering_it_applies_at_once() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(2);
    w.set_waker(rec.clone(), 3);
    for _ in 0..2 {
        assert!(w.can_write());
        w.write(frame(b"m", false));
        w.flush();
    }
    assert!(!w.can_write(), "full at 2");
    r.set_hwm(5);
    assert_eq!(rec.take(), vec![(3, Wakeup::Writable)]);
    assert!(w.can_write());
    w.set_hwm(1);
    assert!(!w.can_write(), "above the new mark of 1");
    assert_eq!(r.read(), Read::Frame(frame(b"m", false)));
    assert_eq!(r.read(), Read::Frame(frame(b"m", false)));
    assert!(w.can_write());
    w.set_hwm(0);
    for _ in 0..100 {
        assert!(w.can_write(), "0 is no limit");
        w.write(frame(b"m", false));
        w.flush();
    }
}

#[test]
fn an_inproc_mark_is_the_sum_of_both_parts() {
    let (mut w, r) = queue(20);
    w.set_hwm_parts(10, 10);
    w.set_hwm(3);
    r.set_hwm(4);
    for _ in 0..7 {
        assert!(w.can_write());
        w.write(frame(b"m", false));
        w.flush();
    }
    assert!(!w.can_write(), "3 of the writer's plus 4 of the reader's");
    r.set_hwm(0);
    assert!(w.can_write(), "either part 0 is no limit");
}

#[test]
fn both_sockets_changing_their_inproc_parts_at_once_leave_the_true_sum() {
    // Each round, the two ends set their parts many times at once from two threads; the
    // mark left must be the sum of the last part each set, never one built from a stale
    // part (the part and the total are stored under one lock).
    const PARTS: usize = 20_000;
    for round in 0..20 {
        let (w, r) = queue(0);
        w.set_hwm_parts(1, 1);
        let shared = Arc::clone(&w.shared);
        let start = Arc::new(std::sync::Barrier::new(2));
        let w_start = Arc::clone(&start);
        let writer = thread::spawn(move || {
            w_start.wait();
            for part in 1..=PARTS {
                w.set_hwm(part);
            }
        });
        let reader = thread::spawn(move || {
            start.wait();
            for part in 1..=PARTS {
                r.set_hwm(1000 + part);
            }
        });
        writer.join().unwrap();
        reader.join().unwrap();
        let total = (PARTS + 1000 + PARTS) as u64;
        assert_eq!(
            shared.hwm.load(Ordering::SeqCst),
            total,
            "round {round}: a stale part was summed"
        );
        assert_eq!(shared.lwm.load(Ordering::SeqCst), total.div_ceil(2));
    }
}

fn bytes_frame(len: usize, more: bool) -> Frame {
    Frame::new(Bytes::from(vec![7u8; len]), more)
}

#[test]
fn pacing_waits_for_the_reader_to_take_half_the_bytes() {
    const LIMIT: u64 = 4096;
    let (mut w, mut r) = queue(1000);
    let rec = Arc::new(Recorder::default());
    w.set_waker(rec.clone(), 7);
    // Below the limit (an unfinished message's frames count, then are rolled back).
    w.write(bytes_frame(1000, false));
    w.write(bytes_frame(1000, false));
    w.flush();
    w.write(bytes_frame(5000, true));
    assert!(w.pace_due(LIMIT));
    w.rollback();
    assert!(!w.pace_due(LIMIT), "the rolled-back frame no longer counts");
    assert!(!w.pace(LIMIT));
    // 4,000 bytes queued, then 5,000: the writer waits until the reader has taken enough
    // to leave at most half the limit.
    w.write(bytes_frame(1000, false));
    w.write(bytes_frame(1000, false));
    w.write(bytes_frame(1000, true));
    w.write(bytes_frame(1000, false));
    w.flush();
    assert!(w.pace(LIMIT));
    for _ in 0..4 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    assert!(rec.take().is_empty(), "3,000 bytes left: not yet");
    assert!(matches!(r.read(), Read::Frame(_)));
    // 4,000 of 5,000 read, 1,000 left: the reader woke the writer (when it had read
    // everything it knew of, its count went to the writer).
    assert!(matches!(r.read(), Read::Frame(_)));
    assert_eq!(r.read(), Read::Empty);
    assert_eq!(rec.take(), vec![(7, Wakeup::Writable)]);
    w.end_pace();
    assert!(!w.pace(LIMIT));
}

#[test]
fn a_reader_publishes_its_byte_count_every_quarter_megabyte() {
    let (mut w, mut r) = queue(1000);
    let rec = Arc::new(Recorder::default());
    w.set_waker(rec.clone(), 1);
    let limit = 3 * PUBLISH_BYTES;
    for _ in 0..12 {
        w.write(bytes_frame(PUBLISH_BYTES as usize / 2, false));
    }
    w.flush();
    assert!(w.pace(limit), "6 x 256 KiB queued, none read");
    // The writer is woken once the reader, publishing every 256 KiB, is past the target
    // (4.5 of 6 x 256 KiB), while messages are still queued.
    for read in 1..=12 {
        assert!(matches!(r.read(), Read::Frame(_)));
        if !rec.take().is_empty() {
            assert!(read < 12, "woken before the queue ran dry");
            assert!(read >= 9, "woken after {read} reads");
            return;
        }
    }
    panic!("the paced writer was never woken");
}

#[test]
fn a_pace_given_up_stays_off_until_the_reader_catches_up() {
    const LIMIT: u64 = 2000;
    let (mut w, mut r) = queue(1000);
    for _ in 0..4 {
        w.write(bytes_frame(1000, false));
    }
    w.flush();
    assert!(w.pace(LIMIT));
    w.give_up_pace();
    w.write(bytes_frame(1000, false));
    w.flush();
    assert!(!w.pace(LIMIT), "off while the reader is behind");
    for _ in 0..5 {
        assert!(matches!(r.read(), Read::Frame(_)));
    }
    assert_eq!(r.read(), Read::Empty);
    // Checked after each message, as a socket does: the first finds the reader caught
    // up, the second the limit reached again.
    w.write(bytes_frame(1000, false));
    w.flush();
    assert!(!w.pace(LIMIT));
    w.write(bytes_frame(1000, false));
    w.flush();
    assert!(w.pace(LIMIT), "on again once the reader caught up");
}

#[test]
fn pacing_never_waits_on_a_closed_or_conflating_reader() {
    let (mut w, r) = queue(1000);
    w.write(bytes_frame(5000, false));
    w.flush();
    drop(r);
    assert!(!w.pace(1000));
    let (mut w, _r) = queue(1000);
    w.set_conflate(true);
    w.write(bytes_frame(5000, false));
    w.flush();
    assert!(!w.pace(1000));
    assert!(!w.pace(0), "0: no pacing");
}

#[test]
fn a_catching_up_reader_still_asks_to_be_woken_when_nothing_comes() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(0);
    r.set_waker(rec.clone(), 3);
    r.set_catch_up_spin(true);
    assert_eq!(r.read(), Read::Empty, "polled, then asked");
    w.write(frame(b"a", false));
    w.write(frame(b"b", false));
    w.flush();
    assert_eq!(rec.take(), [(3, Wakeup::Readable)]);
    assert_eq!(r.read(), Read::Frame(frame(b"a", false)));
    assert_eq!(r.read(), Read::Frame(frame(b"b", false)));
    r.set_catch_up_spin(false);
    assert_eq!(r.read(), Read::Empty);
    w.close();
    assert_eq!(rec.take(), [(3, Wakeup::Closed)]);
    r.set_catch_up_spin(true);
    assert_eq!(r.read(), Read::Closed, "no poll once the writer closed");
}

/// A catching-up reader that has read a batch since it last found none trails a stream:
/// the few messages it finds next are read after its poll, not left behind, and a queue it
/// then finds empty still asks to be woken.
#[test]
fn a_reader_trailing_a_stream_reads_the_few_messages_it_finds() {
    let rec = Arc::new(Recorder::default());
    let (mut w, mut r) = queue(0);
    r.set_waker(rec.clone(), 1);
    r.set_catch_up_spin(true);
    let body = |i: u64| Frame::last(Bytes::copy_from_slice(&i.to_be_bytes()));
    for i in 0..CATCH_UP_BATCH {
        w.write(body(i));
    }
    w.flush();
    for i in 0..CATCH_UP_BATCH {
        assert_eq!(r.read(), Read::Frame(body(i)));
    }
    assert!(
        r.trails_stream(false),
        "a batch read since it last found none"
    );
    w.write(body(CATCH_UP_BATCH));
    w.write(body(CATCH_UP_BATCH + 1));
    w.flush();
    assert_eq!(r.read(), Read::Frame(body(CATCH_UP_BATCH)));
    assert_eq!(r.read(), Read::Frame(body(CATCH_UP_BATCH + 1)));
    assert_eq!(r.read(), Read::Empty, "polled, then asked");
    assert!(
        !r.trails_stream(false),
        "found none: a request's reply waits no poll"
    );
    w.write(body(0));
    w.flush();
    assert_eq!(rec.take(), [(1, Wakeup::Readable)]);
    assert_eq!(r.read(), Read::Frame(body(0)));
    r.set_catch_up_spin(false);
    assert!(!r.trails_stream(false), "only a reader that polls");
}

#[test]
fn a_catching_up_reader_takes_a_threaded_stream_in_order() {
    threaded_stream(20_000, true);
}
