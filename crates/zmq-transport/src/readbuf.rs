//! The space the engine reads small frames into: the part of a 64 KiB buffer after the
//! bytes read so far, never zero-filled, and reused once every frame cut from it is gone.
//!
//! Bytes read join the end of the engine's input without a copy (`unsplit` of two parts of
//! one allocation); the decoder cuts frames off the input's front, sharing the allocation.
//! When less than [`MIN_SPARE`] is left, the next read needs a new buffer. Two costs of a
//! new buffer showed in profiles of 4 and 16 KiB streams: zero-filling it (safe Rust reads
//! only into initialised bytes: 8% of the saturated receiving I/O thread) and faulting its
//! fresh pages in (another 8-9%). So:
//!
//! - On Linux a read goes straight into the buffer's uninitialised capacity (rustix's
//!   `read` into `MaybeUninit` bytes), and the buffer's length then grows by what the
//!   kernel wrote: the one `unsafe` line of this module. Elsewhere a buffer is zero-filled
//!   each time it is taken, and reads go into its initialised bytes.
//! - A buffer given up is kept by the I/O thread (a few, for all its connections), and
//!   taken again by the next connection needing one once every frame cut from it has been
//!   dropped (`BytesMut::try_reclaim`: its pages are resident, likely in cache). A kept
//!   buffer some frame still holds stays until it is among the oldest past [`KEPT`], then
//!   is let go (the last frame frees it). So a thread holds at most [`KEPT`] buffers
//!   beyond those its connections read into and the frames the application keeps.
//!
//! The `read_splits` fuzz target drives this module through a socket pair, under
//! AddressSanitizer too, against a model of the byte stream and of the frames held.

use std::cell::RefCell;
use std::io;

use bytes::BytesMut;

use crate::recycle::Chunks;
use crate::stream::Stream;

/// The size of a read buffer: most reads of a busy stream fill what is left of it.
pub(crate) const READ_CHUNK: usize = 64 * 1024;
/// Below this much room, the next read takes another buffer; a frame body longer than
/// this gathers in a buffer of its own (the engine's `read_large_body`).
pub(crate) const MIN_SPARE: usize = 16 * 1024;

/// How many buffers given up a thread keeps to take again (512 KiB).
pub(crate) const KEPT: usize = 8;

thread_local! {
    /// The buffers given up on this thread.
    static GIVEN_UP: RefCell<Chunks> = const { RefCell::new(Chunks::new(KEPT)) };
}

/// Where the next reads go; see the module's documentation.
#[derive(Default)]
pub(crate) struct ReadSpace {
    /// The rest of the current buffer, after the engine's input. On Linux its length is
    /// zero (all of it is capacity, filled by each read); elsewhere it is zero-filled.
    spare: BytesMut,
    /// `spare` is part of a buffer (not the empty one a connection starts with).
    in_buffer: bool,
}

impl ReadSpace {
    /// How much the next read may fill.
    pub(crate) fn room(&self) -> usize {
        self.spare.capacity()
    }

    /// Makes room for the next read when it runs short (at least [`MIN_SPARE`] after it):
    /// a kept buffer no frame holds any more, else a new one; `input` (part of a frame, in
    /// the engine) moves to its front.
    pub(crate) fn ensure(&mut self, input: &mut BytesMut) {
        if self.spare.capacity() >= MIN_SPARE {
            return;
        }
        let given_up = std::mem::take(&mut self.spare);
        // Never more than `MIN_SPARE` plus a frame header in the engine, which reads only
        // once every whole frame is decoded.
        let size = READ_CHUNK.max(input.len() + MIN_SPARE);
        let mut fresh = GIVEN_UP.with_borrow_mut(|kept| {
            if self.in_buffer {
                kept.give_up(given_up);
            }
            kept.take(size)
        });
        self.in_buffer = true;
        fresh.extend_from_slice(input);
        *input = fresh.split_to(input.len());
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        fresh.resize(fresh.capacity(), 0);
        self.spare = fresh;
    }

    /// Reads at most `max` bytes from `stream` onto the end of `input` (which ends where
    /// the room begins), returning how many were read.
    pub(crate) fn read(
        &mut self,
        stream: &mut Stream,
        max: usize,
        input: &mut BytesMut,
    ) -> io::Result<usize> {
        let n = read_into(stream, &mut self.spare, max)?;
        input.unsplit(self.spare.split_to(n));
        Ok(n)
    }
}

/// Reads at most `max` bytes into the capacity of `spare` (empty) and makes them its
/// first bytes; returns how many.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[allow(unsafe_code)]
fn read_into(stream: &mut Stream, spare: &mut BytesMut, max: usize) -> io::Result<usize> {
    use std::os::fd::AsFd;
    debug_assert!(spare.is_empty());
    let room = spare.spare_capacity_mut();
    let want = max.min(room.len());
    let room = &mut room[..want];
    let n = loop {
        match rustix::io::read(stream.as_fd(), &mut *room) {
            Ok((filled, _)) => break filled.len(),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    };
    // SAFETY: `spare` is empty, so its capacity starts at its first byte, and the kernel
    // wrote the first `n` bytes of that capacity (rustix returns them as the initialised
    // part of the slice it was given, at most `max` bytes of the capacity).
    unsafe { spare.set_len(n) };
    Ok(n)
}

/// Reads at most `max` bytes into the first bytes of `spare` (zero-filled when it was
/// taken); returns how many.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn read_into(stream: &mut Stream, spare: &mut BytesMut, max: usize) -> io::Result<usize> {
    use std::io::Read as _;
    let room = max.min(spare.len());
    stream.read(&mut spare[..room])
}

/// The `read_splits` fuzz target's driver: a socket pair's reading end through a
/// [`ReadSpace`], under writes, reads and frame cuts of arbitrary sizes, some frames held
/// and dropped later, checked against the bytes written.
pub(crate) mod fuzzing {
    use std::collections::VecDeque;
    use std::io::Write as _;
    use std::os::unix::net::UnixStream;

    use bytes::{Bytes, BytesMut};

    use super::{ReadSpace, MIN_SPARE};
    use crate::stream::Stream;

    /// Runs the operations `data` spells, three bytes each: an operation and a 16-bit size.
    pub fn read_splits(data: &[u8]) {
        let (mut writer, reader) = UnixStream::pair().expect("a socket pair");
        writer.set_nonblocking(true).expect("a non-blocking socket");
        reader.set_nonblocking(true).expect("a non-blocking socket");
        let mut stream = Stream::Unix(reader);
        let mut space = ReadSpace::default();
        let mut input = BytesMut::new();
        // Bytes written and not yet read, and the serial of the next byte written.
        let mut in_flight = 0usize;
        let mut next_written = 0u64;
        // The serial of the first byte of `input`, and the frames held, with theirs.
        let mut input_serial = 0u64;
        let mut held: VecDeque<(u64, Bytes)> = VecDeque::new();
        for op in data.chunks_exact(3) {
            let size = usize::from(u16::from_le_bytes([op[1], op[2]]));
            match op[0] % 5 {
                // Write up to `size` bytes, as many as the socket takes.
                0 => {
                    let bytes: Vec<u8> = (next_written..).take(size).map(pattern).collect();
                    let n = match writer.write(&bytes) {
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
                        Err(e) => panic!("a write to a socket pair failed: {e}"),
                    };
                    next_written += n as u64;
                    in_flight += n;
                }
                // Read at most `size` bytes, as the engine does (room first).
                1 => {
                    space.ensure(&mut input);
                    assert!(space.room() >= MIN_SPARE, "room for a read");
                    let before = input.len();
                    match space.read(&mut stream, size.max(1), &mut input) {
                        Ok(n) => {
                            assert!(n > 0 && n <= size.max(1), "a read of {n} bytes");
                            assert_eq!(input.len(), before + n, "the input grew by the read");
                            in_flight -= n;
                        }
                        Err(e) => {
                            assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
                            assert_eq!(in_flight, 0, "nothing read with data in flight");
                            assert_eq!(input.len(), before, "the input unchanged");
                        }
                    }
                }
                // Cut a frame off the front of the input: held, or dropped at once.
                2 | 3 => {
                    let len = size.min(input.len());
                    let frame = input.split_to(len).freeze();
                    check(input_serial, &frame);
                    if op[0] % 5 == 2 {
                        held.push_back((input_serial, frame));
                    }
                    input_serial += len as u64;
                }
                // Drop the oldest frame held, after checking it is unchanged.
                _ => {
                    if let Some((serial, frame)) = held.pop_front() {
                        check(serial, &frame);
                    }
                }
            }
        }
        check(input_serial, &input);
        for (serial, frame) in &held {
            check(*serial, frame);
        }
    }

    /// The byte written with serial `serial`.
    fn pattern(serial: u64) -> u8 {
        (serial ^ (serial >> 8) ^ (serial >> 16)) as u8
    }

    /// Checks that `bytes` are those written from serial `first` on.
    fn check(first: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            assert_eq!(
                b,
                pattern(first + i as u64),
                "byte {} of the stream",
                first + i as u64
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::os::unix::net::UnixStream;

    fn pair() -> (UnixStream, Stream) {
        let (writer, reader) = UnixStream::pair().unwrap();
        reader.set_nonblocking(true).unwrap();
        (writer, Stream::Unix(reader))
    }

    #[test]
    fn reads_join_the_input_and_a_buffer_no_frame_holds_is_taken_again() {
        let (mut writer, mut stream) = pair();
        let mut space = ReadSpace::default();
        let mut input = BytesMut::new();
        let chunk: Vec<u8> = (0..READ_CHUNK).map(|i| i as u8).collect();

        // The first buffer: filled to within `MIN_SPARE` of its end, all cut off and
        // dropped but for 10 bytes of a frame left in the input.
        writer
            .write_all(&chunk[..READ_CHUNK - MIN_SPARE + 10])
            .unwrap();
        space.ensure(&mut input);
        assert_eq!(space.room(), READ_CHUNK);
        let first = input.as_ptr();
        let n = space.read(&mut stream, READ_CHUNK, &mut input).unwrap();
        assert_eq!(n, READ_CHUNK - MIN_SPARE + 10);
        assert_eq!(&input[..], &chunk[..n]);
        drop(input.split_to(n - 10));
        assert_eq!(space.room(), MIN_SPARE - 10);

        // The second buffer is new (the first still holds the 10 bytes), with them at its
        // front; the first is kept.
        space.ensure(&mut input);
        assert_ne!(input.as_ptr(), first);
        assert_eq!(&input[..], &chunk[n - 10..n]);
        assert_eq!(space.room(), READ_CHUNK - 10);
        writer.write_all(&chunk[..READ_CHUNK - MIN_SPARE]).unwrap();
        let m = space.read(&mut stream, READ_CHUNK, &mut input).unwrap();
        assert_eq!(m, READ_CHUNK - MIN_SPARE);
        assert_eq!(&input[10..], &chunk[..m]);
        let held = input.split_to(5).freeze();
        drop(input.split_to(input.len() - 3));

        // The third is the first again: nothing holds it now.
        space.ensure(&mut input);
        assert_eq!(input.as_ptr(), first);
        assert_eq!(&input[..], &chunk[m - 3..m]);
        assert_eq!(&held[..], &chunk[n - 10..n - 5]);
    }

    #[test]
    fn kept_buffers_frames_still_hold_are_let_go_past_the_limit() {
        let (mut writer, mut stream) = pair();
        let mut space = ReadSpace::default();
        let mut input = BytesMut::new();
        let mut held = Vec::new();
        for round in 0..KEPT as u8 + 3 {
            let bytes = vec![round; READ_CHUNK - MIN_SPARE + 1];
            writer.write_all(&bytes).unwrap();
            space.ensure(&mut input);
            let n = space.read(&mut stream, READ_CHUNK, &mut input).unwrap();
            assert_eq!(n, bytes.len());
            held.push(input.split_to(n).freeze());
        }
        // Every buffer but the current one was given up; the thread keeps the newest.
        assert_eq!(GIVEN_UP.with_borrow(Chunks::len), KEPT);
        for (round, frame) in held.iter().enumerate() {
            assert!(
                frame.iter().all(|&b| usize::from(b) == round),
                "frame {round} intact"
            );
        }
    }

    #[test]
    fn a_read_of_nothing_would_block() {
        let (_writer, mut stream) = pair();
        let mut space = ReadSpace::default();
        let mut input = BytesMut::new();
        space.ensure(&mut input);
        let e = space.read(&mut stream, 100, &mut input).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(input.is_empty());
    }

    #[test]
    fn the_fuzz_driver_runs_its_operations() {
        // Write 40,000 bytes twice, reading and cutting in between, holding some frames.
        let mut ops = Vec::new();
        let mut op = |code: u8, size: u16| ops.extend([code, size as u8, (size >> 8) as u8]);
        for _ in 0..2 {
            op(0, 40_000);
            for _ in 0..8 {
                op(1, 7_000);
                op(2, 3_000);
                op(3, 2_500);
            }
            op(4, 0);
        }
        fuzzing::read_splits(&ops);
    }
}
