//! Copies of frame bodies that avoid a slow case of the C library's `memcpy`.
//!
//! On the AMD EPYC machines the benchmarks run on, glibc 2.36's `memcpy` copies blocks of
//! about 4 KiB and more with `rep movsb`, which runs ten to twenty-five times slower when
//! the destination lies a few bytes after the source modulo the 4 KiB page (4K aliasing):
//! 64 KiB took 24-28 us instead of 1.5 us, 4 KiB 2.5 us instead of 0.1 us. Of the offsets
//! measured, 1 to 24 bytes were slow; 0, 32 to 2048 and 3968 to 4095 were not; copies of
//! 2 KiB and less use vector moves and never slowed down. Where the two addresses fall is
//! chance: a message copied into a reused buffer, or a stream of equal frames appended to
//! one batch, can hit the slow case on every message of a run and not at all in the next
//! (inproc 64 KiB round trips took 7-11 us instead of 1.7 us with recycled buffers). The
//! copies below check the two addresses and, in that case only, copy in pieces of
//! [`PIECE`] bytes, which take the vector path at full speed whatever the alignment.

use bytes::BufMut;

/// Copies of at most this many bytes never take the slow path; longer copies that would
/// are made in pieces of this size.
pub const PIECE: usize = 2048;

/// The window of destination-after-source offsets (modulo 4 KiB) treated as slow: the
/// slow case measured at 1-24 bytes and not at 32, with a margin.
const ALIAS_WINDOW: usize = 64;

/// Whether a copy of `len` bytes from address `src` to `dst` may take the slow path.
#[inline]
pub const fn aliases(dst: usize, src: usize, len: usize) -> bool {
    let offset = dst.wrapping_sub(src) % 4096;
    len > PIECE && offset != 0 && offset < ALIAS_WINDOW
}

/// `dst.copy_from_slice(src)`, in pieces if the addresses alias (see the module docs).
///
/// # Panics
/// If the two slices differ in length, as `copy_from_slice` does.
#[inline]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    if aliases(dst.as_ptr() as usize, src.as_ptr() as usize, src.len()) {
        assert_eq!(
            dst.len(),
            src.len(),
            "copy between slices of different lengths"
        );
        for (d, s) in dst.chunks_mut(PIECE).zip(src.chunks(PIECE)) {
            d.copy_from_slice(s);
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// `out.put_slice(src)`, in pieces if the addresses alias. The check needs the room to be
/// there already (reserve it first); without it the bytes are appended as one slice.
#[inline]
pub fn put(out: &mut impl BufMut, src: &[u8]) {
    if src.len() > PIECE {
        put_long(out, src);
    } else {
        out.put_slice(src);
    }
}

/// [`put`] of more than [`PIECE`] bytes (out of line: the short copies, most of them, stay
/// small where they are inlined).
#[inline(never)]
fn put_long(out: &mut impl BufMut, src: &[u8]) {
    {
        let room = out.chunk_mut();
        if room.len() >= src.len()
            && aliases(room.as_mut_ptr() as usize, src.as_ptr() as usize, src.len())
        {
            for piece in src.chunks(PIECE) {
                out.put_slice(piece);
            }
            return;
        }
    }
    out.put_slice(src);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use bytes::BytesMut;

    #[test]
    fn the_window_is_destination_just_after_source() {
        assert!(
            !aliases(4096 + 16, 4096, PIECE),
            "short copies are never slow"
        );
        assert!(aliases(4096 + 16, 4096, PIECE + 1));
        assert!(aliases(3 * 4096 + 1, 4096, 10_000));
        assert!(aliases(16, 4096 * 7, 10_000), "modulo the page");
        assert!(!aliases(4096, 4096 * 3, 10_000), "same offset in the page");
        assert!(!aliases(4096 + 64, 4096, 10_000));
        assert!(
            !aliases(4096, 4096 + 16, 10_000),
            "destination before the source"
        );
    }

    /// A source and a destination `offset` bytes apart modulo 4 KiB, in `buf`.
    fn placed(buf: &mut [u8], len: usize, offset: usize) -> (usize, usize) {
        let base = buf.as_ptr() as usize;
        let src = 0;
        let dst = (0..8192)
            .map(|d| len + d)
            .find(|&d| (base + d).wrapping_sub(base + src) % 4096 == offset)
            .unwrap();
        (src, dst)
    }

    #[test]
    fn copies_are_exact_whichever_way_they_are_made() {
        for len in [0, 1, PIECE, PIECE + 1, 3 * PIECE + 17, 65_536] {
            for offset in [0, 1, 16, 63, 64, 4000] {
                let mut buf = vec![0u8; 2 * len + 8192];
                let (src, dst) = placed(&mut buf, len, offset);
                for (i, b) in buf[src..src + len].iter_mut().enumerate() {
                    *b = (i % 251) as u8;
                }
                let source: Vec<u8> = buf[src..src + len].to_vec();
                let (head, tail) = buf.split_at_mut(dst);
                copy(&mut tail[..len], &head[src..src + len]);
                assert_eq!(
                    &buf[dst..dst + len],
                    &source[..],
                    "len {len} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn puts_append_the_same_bytes() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 253) as u8).collect();
        for skip in [0, 1, 16, 40, 100] {
            let mut out = BytesMut::with_capacity(skip + data.len());
            out.extend_from_slice(&vec![9u8; skip]);
            put(&mut out, &data);
            assert_eq!(&out[..skip], &vec![9u8; skip][..]);
            assert_eq!(&out[skip..], &data[..]);
            // Without room reserved: appended all the same.
            let mut small = Vec::new();
            put(&mut small, &data[..skip + PIECE + 1]);
            assert_eq!(&small[..], &data[..skip + PIECE + 1]);
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn different_lengths_panic_as_copy_from_slice_does() {
        let mut buf = vec![0u8; 3 * 4096 + 2 * PIECE];
        let (head, tail) = buf.split_at_mut(4096 + 16);
        copy(&mut tail[..PIECE + 2], &head[..PIECE + 1]);
    }
}
