//! The `pipe_ops` fuzz target's driver: a queue's two ends under arbitrary operations, on
//! one thread, checked against a model of what the reader must see. It exercises the
//! lock-free frame queue (`frames`, whose `unsafe` the target runs under AddressSanitizer)
//! through every path the pipe takes it: single frames pushed at `write` (moved, copied
//! from bytes or taken from a place), multi-frame messages at `flush`, frames read by
//! value and into a place, rollbacks, hiccups that discard, closes from either side,
//! frames left in the queue when its ends are dropped, and a reader that polls when it
//! catches up; and the byte counts of send pacing along the way.

use std::collections::VecDeque;
use std::sync::Arc;

use zmtp_codec::Frame;

use super::{queue, Read, Reader, Wake, Wakeup};

/// A waker that does nothing (the wake-up paths run; nobody waits on one thread).
struct Ignore;

impl Wake for Ignore {
    fn wake(&self, _token: u64, _why: Wakeup) {}
}

/// What the reader must see, message by message.
#[derive(Default)]
struct Model {
    /// Frames written of the message not yet finished.
    partial: Vec<Vec<u8>>,
    /// Whole messages written, not yet flushed.
    unflushed: VecDeque<Vec<Vec<u8>>>,
    /// Whole messages flushed, not yet begun by the reader.
    queued: VecDeque<Vec<Vec<u8>>>,
    /// The rest of the message the reader is in.
    current: VecDeque<Vec<u8>>,
    writer_closed: bool,
    reader_closed: bool,
    connected: bool,
    hiccup_pending: bool,
}

impl Model {
    fn flush(&mut self) {
        self.queued.extend(self.unflushed.drain(..));
    }
}

/// Runs the operations `data` spells, one byte each (some take the next byte too), and
/// then drops the two ends in the order the last byte picks.
pub fn pipe_ops(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let (mut w, mut r) = queue(usize::from(bytes.next().unwrap_or(0) % 8));
    w.set_waker(Arc::new(Ignore), 1);
    r.set_waker(Arc::new(Ignore), 2);
    let mut model = Model::default();
    let mut serial = 0u32;
    let mut last = 0;
    while let Some(op) = bytes.next() {
        last = op;
        match op % 10 {
            0 | 1 if !model.writer_closed => {
                let arg = bytes.next().unwrap_or(0);
                let more = op % 10 == 1;
                let data = body(serial, usize::from(arg % 80));
                let mut frame = Frame::new(data.clone(), more);
                // Every way in: moved, copied from bytes (every other frame), or taken
                // from a place (which is left empty).
                if arg & 0x80 != 0 {
                    w.write_from(&mut frame);
                    assert_eq!(frame, Frame::default(), "write_from leaves an empty frame");
                } else if serial % 2 == 1 {
                    w.write_copy(&frame.data, more);
                } else {
                    w.write(frame);
                }
                serial += 1;
                if model.reader_closed {
                    continue;
                }
                model.partial.push(data);
                if !more {
                    let message = std::mem::take(&mut model.partial);
                    model.unflushed.push_back(message);
                }
            }
            2 if !model.writer_closed => {
                w.flush();
                model.flush();
                // Send pacing (its counts and wake-ups; nothing the reader sees).
                if op & 0x10 != 0 {
                    let limit = 32u64 << ((op >> 5) & 3);
                    if w.pace(limit) {
                        if op & 0x80 == 0 {
                            w.end_pace();
                        } else {
                            w.give_up_pace();
                        }
                    }
                }
            }
            3 | 4 if !model.reader_closed => read_and_check(&mut r, &mut model, op % 10 == 4),
            5 if !model.writer_closed => {
                w.rollback();
                model.partial.clear();
            }
            6 => {
                let hwm = usize::from(bytes.next().unwrap_or(0) % 8);
                if op & 0x10 == 0 {
                    w.set_hwm(hwm);
                } else {
                    r.set_hwm(hwm);
                }
                let _ = w.can_write();
                // The reader's catch-up poll, on or off (a stream it trails, the empty
                // queue it polls before it asks to be woken).
                if op & 0x20 != 0 {
                    r.set_catch_up_spin(op & 0x40 != 0);
                    // Two polls instead of sixteen: the same paths, at a fuzzer's pace
                    // (on one thread nothing arrives while it polls).
                    r.catch_up_spins = r.catch_up_spins.min(2);
                }
            }
            7 if !model.reader_closed => {
                r.hiccup();
                if std::mem::replace(&mut model.connected, true) {
                    model.current.clear();
                    model.hiccup_pending = !model.writer_closed;
                }
            }
            8 => {
                w.hiccup_ack();
                model.flush();
                model.queued.clear();
                model.hiccup_pending = false;
            }
            9 if op & 0x10 == 0 && !model.writer_closed => {
                w.close();
                model.partial.clear();
                model.flush();
                model.writer_closed = true;
                model.hiccup_pending = false;
            }
            9 if !model.reader_closed => {
                r.close();
                model.reader_closed = true;
                model.partial.clear();
                model.unflushed.clear();
                model.queued.clear();
                model.current.clear();
            }
            _ => {}
        }
    }
    // What is left in the queue goes with whichever end is dropped last.
    if last & 0x20 == 0 {
        drop(r);
        drop(w);
    } else {
        drop(w);
        drop(r);
    }
}

/// A frame body that names its place in the stream: the serial number, then filler.
fn body(serial: u32, len: usize) -> Vec<u8> {
    let mut data = serial.to_le_bytes().to_vec();
    data.resize(len.max(4), serial as u8);
    data
}

/// Reads the next frame and checks it against the model: with [`Reader::read`], or with
/// [`Reader::next_frame_into`] into a frame that must be left as it was when none comes.
fn read_and_check(r: &mut Reader, model: &mut Model, into: bool) {
    let got = if into {
        let stale = Frame::new(vec![0xee; 40], true);
        let mut place = stale.clone();
        if r.next_frame_into(&mut place) {
            Read::Frame(place)
        } else {
            assert_eq!(place, stale, "no frame: the place is left as it was");
            if r.is_finished() {
                Read::Closed
            } else {
                Read::Empty
            }
        }
    } else {
        r.read()
    };
    if model.current.is_empty() && !model.hiccup_pending {
        if let Some(message) = model.queued.pop_front() {
            model.current = message.into();
        }
    }
    let Some(expected) = model.current.pop_front() else {
        let end = if model.writer_closed && !model.hiccup_pending {
            Read::Closed
        } else {
            Read::Empty
        };
        assert_eq!(got, end, "no message is due");
        return;
    };
    let more = !model.current.is_empty();
    assert_eq!(
        got,
        Read::Frame(Frame::new(expected, more)),
        "the next frame"
    );
}
