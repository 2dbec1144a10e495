//! NaCl's `crypto_secretbox` (XSalsa20 and Poly1305) and the HSalsa20 key derivation of
//! `crypto_box_beforenm`, as CURVE uses them for every message.
//!
//! Why not the `crypto_secretbox` crate, which this module is checked against bit for bit
//! (see the tests): CURVE seals each message separately, most of them short, and there the
//! crate spent most of a message's instructions outside the cipher proper: its Poly1305
//! picks an AVX2 backend that precomputes four powers of the key per message (about 600
//! instructions) and works through short inputs in 64-byte strides; its Salsa20 computes
//! one block at a time (about 18 instructions per byte). libsodium, on the other side of
//! libzmq's connections, does neither. Here:
//! - Salsa20 runs four blocks at once, one block per lane of four-word vectors (`wide`'s
//!   `u32x4`: SSE2 on x86-64, where it is the baseline, or NEON; no `unsafe` here). A
//!   message of up to 224 bytes takes one such batch, the MAC key included; one of up to
//!   32 bytes a single block in scalar words, the MAC key's and its own, which costs less
//!   than the batch and leaves less to zeroize. Past the first batch, an x86-64 CPU with
//!   AVX2 (checked at run time) runs eight blocks at once instead
//!   (`super::salsa20_avx2`), two and a half times as fast.
//! - A box of more than 224 bytes goes through the cipher and the MAC a piece at a time
//!   ([`PIECE`]), copied in from its source piece by piece too when it is sealed or opened
//!   into another buffer ([`seal_appending`], [`open_appending`]).
//! - Poly1305 is the 64-bit "donna" formulation (three 44/44/42-bit limbs, `u128`
//!   products): no setup beyond splitting the key, constant time (no branch or index
//!   depends on a secret; the final reduction selects with masks). From
//!   [`CRATE_MAC_FROM`] bytes on, where its set-up no longer counts, the `poly1305`
//!   crate's is used instead: its AVX2 backend (chosen at run time; its portable one
//!   elsewhere) is up to twice as fast on long messages, fed four blocks at a time
//!   ([`LongMac`]).
//!
//! Secret intermediates (the subkey, key stream blocks, the one-time Poly1305 key) are
//! zeroized before returning.

use alloc::vec::Vec;
use core::ops::{DerefMut, Range};

use bytes::BytesMut;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// "expand 32-byte k", as Salsa20's four constant words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// A Salsa20 block's 16 words.
type Block = [u32; 16];

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le64(b: &[u8]) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The input block for `key`, the 16 bytes at words 6..10 (nonce and counter, or
/// HSalsa20's input).
fn initial(key: &[u8; 32], middle: [u32; 4]) -> Block {
    let k = |i: usize| le32(&key[4 * i..]);
    [
        SIGMA[0],
        k(0),
        k(1),
        k(2),
        k(3),
        SIGMA[1],
        middle[0],
        middle[1],
        middle[2],
        middle[3],
        SIGMA[2],
        k(4),
        k(5),
        k(6),
        k(7),
        SIGMA[3],
    ]
}

/// The twenty rounds (ten double rounds) over words of any lane type.
macro_rules! rounds {
    ($x:ident, $add:expr, $xor_rotl:expr) => {{
        let add = $add;
        let xor_rotl = $xor_rotl;
        macro_rules! quarter {
            ($a:expr, $b:expr, $c:expr, $d:expr) => {
                $x[$b] = xor_rotl($x[$b], add($x[$a], $x[$d]), 7);
                $x[$c] = xor_rotl($x[$c], add($x[$b], $x[$a]), 9);
                $x[$d] = xor_rotl($x[$d], add($x[$c], $x[$b]), 13);
                $x[$a] = xor_rotl($x[$a], add($x[$d], $x[$c]), 18);
            };
        }
        for _ in 0..10 {
            // Columns.
            quarter!(0, 4, 8, 12);
            quarter!(5, 9, 13, 1);
            quarter!(10, 14, 2, 6);
            quarter!(15, 3, 7, 11);
            // Rows.
            quarter!(0, 1, 2, 3);
            quarter!(5, 6, 7, 4);
            quarter!(10, 11, 8, 9);
            quarter!(15, 12, 13, 14);
        }
    }};
}

#[cfg(target_arch = "x86_64")]
pub(super) use rounds;

fn double_rounds(x: &mut Block) {
    rounds!(
        x,
        |a: u32, b: u32| a.wrapping_add(b),
        |v: u32, t: u32, n: u32| v ^ t.rotate_left(n)
    );
}

/// Four words, one per block of a four-block batch: one vector register (SSE2 on x86-64,
/// NEON on AArch64, four scalars elsewhere).
type Lanes = wide::u32x4;

fn double_rounds4(x: &mut [Lanes; 16]) {
    rounds!(
        x,
        |a: Lanes, b: Lanes| a + b,
        |v: Lanes, t: Lanes, n: u32| v ^ ((t << n) | (t >> (32 - n)))
    );
}

/// HSalsa20: the 32-byte key derived from `key` and 16 bytes of input.
pub(crate) fn hsalsa20(key: &[u8; 32], input: &[u8; 16]) -> [u8; 32] {
    let mut x = initial(key, core::array::from_fn(|i| le32(&input[4 * i..])));
    double_rounds(&mut x);
    let mut out = [0; 32];
    for (i, w) in [0, 5, 10, 15, 6, 7, 8, 9].into_iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x[w].to_le_bytes());
    }
    x.zeroize();
    out
}

/// The Salsa20 key stream of one key and 8-byte nonce.
struct Salsa20 {
    input: Block,
}

impl Salsa20 {
    fn new(key: &[u8; 32], nonce: &[u8]) -> Self {
        Self {
            input: initial(key, [le32(nonce), le32(&nonce[4..]), 0, 0]),
        }
    }

    /// The first key stream block, alone: for a message of at most 32 bytes, which it
    /// covers with the MAC key (one block in scalar words costs about half of the four
    /// that [`Salsa20::blocks4`] computes at once).
    fn block0(&self, out: &mut [u8]) {
        let mut x = self.input;
        double_rounds(&mut x);
        for (i, (w, inp)) in x.iter_mut().zip(self.input.iter()).enumerate() {
            *w = w.wrapping_add(*inp);
            out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        x.zeroize();
    }

    /// Four key stream blocks, from block `counter` on, of which the first
    /// `out.len() / 64` (one to four) are written to `out`.
    fn blocks4(&self, counter: u64, out: &mut [u8]) {
        let blocks = out.len() / 64;
        debug_assert!((1..=4).contains(&blocks) && out.len().is_multiple_of(64));
        let mut start = [Lanes::ZERO; 16];
        for (w, lanes) in self.input.iter().zip(start.iter_mut()) {
            *lanes = Lanes::splat(*w);
        }
        let c: [u64; 4] = core::array::from_fn(|lane| counter.wrapping_add(lane as u64));
        start[8] = Lanes::from(c.map(|c| c as u32));
        start[9] = Lanes::from(c.map(|c| (c >> 32) as u32));
        let mut x = start;
        double_rounds4(&mut x);
        for (i, (w, inp)) in x.iter_mut().zip(start.iter()).enumerate() {
            *w += *inp;
            for (lane, word) in w.to_array().into_iter().take(blocks).enumerate() {
                let at = 64 * lane + 4 * i;
                out[at..at + 4].copy_from_slice(&word.to_le_bytes());
            }
        }
        // Best effort, as for any stack copy: the stores are kept by `black_box`.
        x = [Lanes::ZERO; 16];
        start = [Lanes::ZERO; 16];
        core::hint::black_box((&x, &start));
    }

    /// XORs `buf` with the key stream from block `counter` on.
    fn apply(&self, counter: u64, buf: &mut [u8]) {
        #[cfg(target_arch = "x86_64")]
        if !buf.is_empty() && super::salsa20_avx2::available() {
            #[allow(unsafe_code)]
            // SAFETY: `xor_stream` is compiled for AVX2, which `available` has just found
            // the CPU to have and the OS to support; it is safe code otherwise.
            unsafe {
                super::salsa20_avx2::xor_stream(&self.input, counter, buf);
            }
            return;
        }
        self.apply4(counter, buf);
    }

    /// [`Salsa20::apply`] four blocks at a time, in the portable lanes.
    fn apply4(&self, mut counter: u64, buf: &mut [u8]) {
        let mut stream = [0u8; 256];
        for chunk in buf.chunks_mut(256) {
            self.blocks4(counter, &mut stream);
            counter = counter.wrapping_add(4);
            for (b, s) in chunk.iter_mut().zip(stream.iter()) {
                *b ^= s;
            }
        }
        stream.zeroize();
    }
}

impl Drop for Salsa20 {
    fn drop(&mut self) {
        self.input.zeroize();
    }
}

const MASK44: u64 = (1 << 44) - 1;
const MASK42: u64 = (1 << 42) - 1;

/// Poly1305 with 64-bit limbs.
struct Poly1305 {
    r: [u64; 3],
    s: [u64; 2],
    h: [u64; 3],
    pad: [u64; 2],
}

impl Poly1305 {
    fn new(key: &[u8; 32]) -> Self {
        let t0 = le64(key);
        let t1 = le64(&key[8..]);
        let r = [
            t0 & 0xffc_0fff_ffff,
            ((t0 >> 44) | (t1 << 20)) & 0xfff_ffc0_ffff,
            (t1 >> 24) & 0x00f_ffff_fc0f,
        ];
        Self {
            s: [r[1] * (5 << 2), r[2] * (5 << 2)],
            r,
            h: [0; 3],
            pad: [le64(&key[16..]), le64(&key[24..])],
        }
    }

    /// One 16-byte block; `hibit` is 2^128 in the top limb's terms for a whole block, 0
    /// for the padded last one (its 1 byte is in `block`).
    fn block(&mut self, block: &[u8], hibit: u64) {
        let [r0, r1, r2] = self.r;
        let [s1, s2] = self.s;
        let [mut h0, mut h1, mut h2] = self.h;
        let t0 = le64(block);
        let t1 = le64(&block[8..]);
        h0 += t0 & MASK44;
        h1 += ((t0 >> 44) | (t1 << 20)) & MASK44;
        h2 += ((t1 >> 24) & MASK42) | hibit;
        let m = |a: u64, b: u64| u128::from(a) * u128::from(b);
        let d0 = m(h0, r0) + m(h1, s2) + m(h2, s1);
        let mut d1 = m(h0, r1) + m(h1, r0) + m(h2, s2);
        let mut d2 = m(h0, r2) + m(h1, r1) + m(h2, r0);
        let mut c = (d0 >> 44) as u64;
        h0 = d0 as u64 & MASK44;
        d1 += u128::from(c);
        c = (d1 >> 44) as u64;
        h1 = d1 as u64 & MASK44;
        d2 += u128::from(c);
        c = (d2 >> 42) as u64;
        h2 = d2 as u64 & MASK42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= MASK44;
        h1 += c;
        self.h = [h0, h1, h2];
    }

    fn update(&mut self, data: &[u8]) {
        let mut blocks = data.chunks_exact(16);
        for block in &mut blocks {
            self.block(block, 1 << 40);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 16];
            last[..rest.len()].copy_from_slice(rest);
            last[rest.len()] = 1;
            self.block(&last, 0);
        }
    }

    fn finish(mut self) -> [u8; 16] {
        let [mut h0, mut h1, mut h2] = self.h;
        // Two full carry passes, as poly1305-donna.
        for _ in 0..2 {
            let mut c = h1 >> 44;
            h1 &= MASK44;
            h2 += c;
            c = h2 >> 42;
            h2 &= MASK42;
            h0 += c * 5;
            c = h0 >> 44;
            h0 &= MASK44;
            h1 += c;
        }
        // h - p = h + 5 - 2^130: taken when it does not go below zero, by masks.
        let mut g0 = h0 + 5;
        let mut c = g0 >> 44;
        g0 &= MASK44;
        let mut g1 = h1 + c;
        c = g1 >> 44;
        g1 &= MASK44;
        let mut g2 = (h2 + c).wrapping_sub(1 << 42);
        let keep_g = (g2 >> 63).wrapping_sub(1);
        g0 &= keep_g;
        g1 &= keep_g;
        g2 &= keep_g;
        h0 = (h0 & !keep_g) | g0;
        h1 = (h1 & !keep_g) | g1;
        h2 = (h2 & !keep_g) | g2;
        // + the pad, modulo 2^128.
        let [p0, p1] = self.pad;
        h0 += p0 & MASK44;
        c = h0 >> 44;
        h0 &= MASK44;
        h1 += (((p0 >> 44) | (p1 << 20)) & MASK44) + c;
        c = h1 >> 44;
        h1 &= MASK44;
        h2 += ((p1 >> 24) & MASK42) + c;
        h2 &= MASK42;
        let lo = h0 | (h1 << 44);
        let hi = (h1 >> 20) | (h2 << 24);
        let mut tag = [0u8; 16];
        tag[..8].copy_from_slice(&lo.to_le_bytes());
        tag[8..].copy_from_slice(&hi.to_le_bytes());
        self.r.zeroize();
        self.s.zeroize();
        self.h.zeroize();
        self.pad.zeroize();
        tag
    }
}

/// From this many bytes on, a box's tag is computed by the `poly1305` crate. Its AVX2
/// backend works through four blocks at once but first computes four powers of the key
/// (about 600 instructions); measured here (MB/s, ours against the crate's): 4 KiB 1,706
/// and 1,432, 16 KiB 1,715 and 2,413, 64 KiB 1,717 and 2,876.
const CRATE_MAC_FROM: usize = 8 * 1024;

/// A box's Poly1305: ours below [`CRATE_MAC_FROM`] bytes, the `poly1305` crate's from there.
// On the stack for one box: boxing the crate's state would allocate for each message.
#[allow(clippy::large_enum_variant)]
enum Mac {
    Short(Poly1305),
    Long(LongMac),
}

/// The `poly1305` crate's MAC, fed four blocks (64 bytes) at a time. Its AVX2 backend
/// works through four blocks at once only while it holds none of its own: given a run of
/// blocks whose count is not a multiple of four (the box's [`HEAD`] is fourteen), it keeps
/// the odd ones and from then on takes every block through its one-block path, copying
/// each into its cache first, at half the speed (1 MiB: 1,790-2,100 MB/s, against
/// 3,490-4,130 MB/s fed whole groups). So the odd blocks wait here for the next piece.
struct LongMac {
    mac: poly1305::Poly1305,
    /// Blocks held back, at most three (public bytes: the MAC runs over the ciphertext).
    held: [u8; MAC_GROUP],
    held_len: usize,
}

/// What the `poly1305` crate's AVX2 backend takes at once: four 16-byte blocks.
const MAC_GROUP: usize = 64;

impl LongMac {
    fn new(key: &[u8; 32]) -> Self {
        use poly1305::universal_hash::KeyInit;
        Self {
            // Its state is zeroized when dropped (the crate's `zeroize` feature).
            mac: poly1305::Poly1305::new(poly1305::Key::from_slice(key)),
            held: [0; MAC_GROUP],
            held_len: 0,
        }
    }

    /// Takes in whole 16-byte blocks, passing them on in whole groups of four.
    fn update(&mut self, mut blocks: &[u8]) {
        use poly1305::universal_hash::UniversalHash;
        if self.held_len > 0 {
            let take = (MAC_GROUP - self.held_len).min(blocks.len());
            self.held[self.held_len..self.held_len + take].copy_from_slice(&blocks[..take]);
            self.held_len += take;
            blocks = &blocks[take..];
            if self.held_len < MAC_GROUP {
                return;
            }
            self.mac.update_padded(&self.held);
            self.held_len = 0;
        }
        let whole = blocks.len() / MAC_GROUP * MAC_GROUP;
        // Whole blocks: nothing is padded.
        self.mac.update_padded(&blocks[..whole]);
        let rest = &blocks[whole..];
        self.held[..rest.len()].copy_from_slice(rest);
        self.held_len = rest.len();
    }

    /// The tag, after the box's last piece `last` (any length).
    fn finish(mut self, last: &[u8]) -> [u8; 16] {
        use poly1305::universal_hash::UniversalHash;
        let whole = last.len() / 16 * 16;
        self.update(&last[..whole]);
        // At most three blocks, then the last partial one.
        self.mac.update_padded(&self.held[..self.held_len]);
        self.mac.compute_unpadded(&last[whole..]).into()
    }
}

impl Mac {
    /// The MAC of a box of `len` bytes under the one-time key `key`.
    fn new(key: &[u8; 32], len: usize) -> Self {
        if len >= CRATE_MAC_FROM {
            Self::Long(LongMac::new(key))
        } else {
            Self::Short(Poly1305::new(key))
        }
    }

    /// Takes in whole 16-byte blocks (all of the box but its last piece).
    fn update(&mut self, blocks: &[u8]) {
        debug_assert!(blocks.len().is_multiple_of(16));
        match self {
            Self::Short(mac) => mac.update(blocks),
            Self::Long(mac) => mac.update(blocks),
        }
    }

    /// The tag, after the box's last piece `last`.
    fn finish(self, last: &[u8]) -> [u8; 16] {
        match self {
            Self::Short(mut mac) => {
                mac.update(last);
                mac.finish()
            }
            Self::Long(mac) => mac.finish(last),
        }
    }
}

/// The cipher of one box of `len` bytes: the XSalsa20 stream for `key` and `nonce`, the
/// blocks of its first four that the box uses ([`used_stream`]), and the first 32 bytes
/// of those as the Poly1305 key.
fn start(key: &[u8; 32], nonce: &[u8; 24], len: usize) -> (Salsa20, [u8; 32], [u8; 256]) {
    let mut prefix = [0u8; 16];
    prefix.copy_from_slice(&nonce[..16]);
    let mut subkey = hsalsa20(key, &prefix);
    let stream = Salsa20::new(&subkey, &nonce[16..]);
    subkey.zeroize();
    let mut first = [0u8; 256];
    match used_stream(len) {
        64 => stream.block0(&mut first[..64]),
        used => stream.blocks4(0, &mut first[..used]),
    }
    let mut mac_key = [0u8; 32];
    mac_key.copy_from_slice(&first[..32]);
    (stream, mac_key, first)
}

/// How many bytes of the first four key stream blocks a box of `len` bytes uses: the MAC
/// key's 32 and the box's, in whole blocks. Only those are computed, or at least written
/// out, and zeroized again ([`wipe_first`]): zeroizing goes a byte at a time, so that no
/// store is left out, and all four blocks (and a copy of the one) took a fifth of a short
/// box's sealing (511 ns -> 382-396 ns for 2 bytes here).
fn used_stream(len: usize) -> usize {
    (32 + len).div_ceil(64).min(4) * 64
}

/// Zeroizes the key stream [`start`] wrote for a box of `len` bytes.
fn wipe_first(first: &mut [u8; 256], len: usize) {
    first[..used_stream(len)].zeroize();
}

/// The bytes of a box the first four key stream blocks cover after the MAC key's 32.
const HEAD: usize = 224;

/// A box is encrypted and authenticated a piece at a time, each piece going through the
/// cipher and the MAC (and, from a source, the copy) while it is in the first-level
/// cache: a box of a megabyte, worked through in whole passes, went from memory to the
/// core three or four times. A multiple of the eight-block batch.
const PIECE: usize = 4096;

/// The pieces a box of `len` bytes is worked through in: all but the last (the [`HEAD`],
/// then [`PIECE`]s; whole 16-byte blocks for the MAC), and the last.
fn pieces(len: usize) -> (impl Iterator<Item = Range<usize>> + Clone, Range<usize>) {
    let last = if len <= HEAD {
        0
    } else {
        HEAD + (len - HEAD - 1) / PIECE * PIECE
    };
    let head = core::iter::once(0..HEAD.min(last)).filter(|r| !r.is_empty());
    let rest = (HEAD..last).step_by(PIECE).map(|at| at..at + PIECE);
    (head.chain(rest), last..len)
}

/// One box's key stream after the MAC key, applied a piece at a time.
struct Keystream {
    stream: Salsa20,
    /// The first key stream blocks ([`start`]), until the head has used them.
    first: [u8; 256],
    len: usize,
}

impl Keystream {
    /// XORs `piece`, the box's bytes from `at` on (a piece of [`pieces`]), with its key
    /// stream.
    fn crypt(&mut self, at: usize, piece: &mut [u8]) {
        if at == 0 {
            for (b, s) in piece.iter_mut().zip(self.first[32..].iter()) {
                *b ^= s;
            }
            self.wipe();
        } else {
            // A piece after the head starts at a block: byte 32 + `at` of the stream.
            self.stream.apply(((32 + at) / 64) as u64, piece);
        }
    }

    /// Zeroizes the first blocks (done by [`Keystream::crypt`] once it has used them).
    fn wipe(&mut self) {
        wipe_first(&mut self.first, self.len);
    }
}

/// The key stream and the MAC of a box of `len` bytes.
fn begin(key: &[u8; 32], nonce: &[u8; 24], len: usize) -> (Keystream, Mac) {
    let (stream, mut mac_key, first) = start(key, nonce, len);
    let mac = Mac::new(&mac_key, len);
    mac_key.zeroize();
    (Keystream { stream, first, len }, mac)
}

/// Where a box's bytes are appended: a `Vec` (the handshake's boxes) or a `BytesMut` (a
/// write batch, a received message).
pub(crate) trait Buffer: DerefMut<Target = [u8]> {
    /// Appends `bytes` (within capacity reserved beforehand, so nothing is left behind in
    /// a buffer given up).
    fn append(&mut self, bytes: &[u8]);
    /// Makes room for `more` bytes.
    fn reserve_more(&mut self, more: usize);
    /// Drops the bytes from `len` on.
    fn cut(&mut self, len: usize);
}

macro_rules! buffer {
    ($($t:ty),*) => {$(
        impl Buffer for $t {
            fn append(&mut self, bytes: &[u8]) {
                // Not `memcpy`'s slow case for a piece (`zmtp_codec::copy`).
                zmtp_codec::copy::put(self, bytes);
            }
            fn reserve_more(&mut self, more: usize) {
                self.reserve(more);
            }
            fn cut(&mut self, len: usize) {
                self.truncate(len);
            }
        }
    )*};
}

buffer!(Vec<u8>, BytesMut);

/// `crypto_secretbox` of the bytes of `out` from `at` on followed by `src`, which is
/// appended to `out` as it is sealed: `out[at..]` becomes the ciphertext (a box is the
/// returned tag, then the ciphertext). Either part may be empty.
pub(crate) fn seal_appending<B: Buffer>(
    key: &[u8; 32],
    nonce: &[u8; 24],
    out: &mut B,
    at: usize,
    src: &[u8],
) -> [u8; 16] {
    let present = out.len() - at;
    let len = present + src.len();
    out.reserve_more(src.len());
    // Appends the source up to byte `end` of the box.
    let fill = |out: &mut B, end: usize| {
        let have = out.len() - at;
        if end > have {
            out.append(&src[have - present..end - present]);
        }
    };
    let (mut stream, mut mac) = begin(key, nonce, len);
    let (whole, last) = pieces(len);
    for range in whole {
        fill(out, range.end);
        let piece = &mut out[at + range.start..at + range.end];
        stream.crypt(range.start, piece);
        mac.update(piece);
    }
    fill(out, len);
    let piece = &mut out[at + last.start..];
    stream.crypt(last.start, piece);
    mac.finish(piece)
}

/// `crypto_secretbox_open` in place: checks `tag` in constant time, then decrypts `buf`.
/// `false` (and `buf` untouched) if the box is not authentic.
pub(crate) fn open_in_place(
    key: &[u8; 32],
    nonce: &[u8; 24],
    tag: &[u8; 16],
    buf: &mut [u8],
) -> bool {
    let (mut stream, mut mac) = begin(key, nonce, buf.len());
    let (whole, last) = pieces(buf.len());
    for range in whole.clone() {
        mac.update(&buf[range]);
    }
    if !bool::from(mac.finish(&buf[last.clone()]).ct_eq(tag)) {
        stream.wipe();
        return false;
    }
    for range in whole.chain(core::iter::once(last)) {
        stream.crypt(range.start, &mut buf[range]);
    }
    true
}

/// `crypto_secretbox_open` of the ciphertext `src` with `tag`: appends the plaintext to
/// `out` and returns `true`, or, if the box is not authentic, returns `false` with `out`
/// as it was (what was appended zeroized and cut off again).
pub(crate) fn open_appending<B: Buffer>(
    key: &[u8; 32],
    nonce: &[u8; 24],
    tag: &[u8; 16],
    src: &[u8],
    out: &mut B,
) -> bool {
    let at = out.len();
    out.reserve_more(src.len());
    let (mut stream, mut mac) = begin(key, nonce, src.len());
    let (whole, last) = pieces(src.len());
    for range in whole {
        out.append(&src[range.clone()]);
        let piece = &mut out[at + range.start..];
        mac.update(piece);
        stream.crypt(range.start, piece);
    }
    out.append(&src[last.clone()]);
    let piece = &mut out[at + last.start..];
    if !bool::from(mac.finish(piece).ct_eq(tag)) {
        // What the pieces before decrypted goes again.
        out[at..].zeroize();
        out.cut(at);
        stream.wipe();
        return false;
    }
    stream.crypt(last.start, piece);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use crypto_secretbox::aead::generic_array::GenericArray;
    use crypto_secretbox::aead::{AeadInPlace, KeyInit};
    use crypto_secretbox::{Kdf, XSalsa20Poly1305};
    use proptest::prelude::*;

    fn reference_seal(key: &[u8; 32], nonce: &[u8; 24], buf: &mut [u8]) -> [u8; 16] {
        XSalsa20Poly1305::new(GenericArray::from_slice(key))
            .encrypt_in_place_detached(GenericArray::from_slice(nonce), b"", buf)
            .unwrap()
            .into()
    }

    /// Seals `buf` in place (all of it present, nothing appended).
    fn seal(key: &[u8; 32], nonce: &[u8; 24], buf: &mut Vec<u8>) -> [u8; 16] {
        seal_appending(key, nonce, buf, 0, &[])
    }

    /// Opens `buf` in place: `false`, and `buf` untouched, if it is not authentic.
    fn open(key: &[u8; 32], nonce: &[u8; 24], tag: &[u8; 16], buf: &mut Vec<u8>) -> bool {
        let mut plain = Vec::new();
        let authentic = open_appending(key, nonce, tag, buf, &mut plain);
        assert!(authentic || plain.is_empty());
        if authentic {
            *buf = plain;
        }
        authentic
    }

    #[test]
    fn pieces_cover_a_box_once_in_whole_blocks() {
        for len in [
            0,
            1,
            223,
            224,
            225,
            HEAD + PIECE - 1,
            HEAD + PIECE,
            HEAD + PIECE + 1,
            20_000,
        ] {
            let (whole, last) = pieces(len);
            let mut next = 0;
            for range in whole {
                assert_eq!(range.start, next, "{len}");
                assert!(
                    !range.is_empty() && range.len() % 16 == 0,
                    "{len}: {range:?}"
                );
                assert!(
                    range.start == 0 || (32 + range.start) % 64 == 0,
                    "{len}: {range:?}"
                );
                next = range.end;
            }
            assert_eq!(last, next..len);
            assert!(len == 0 || !last.is_empty(), "{len}");
        }
    }

    #[test]
    fn the_grouped_long_mac_matches_the_crate_in_one_pass() {
        use poly1305::universal_hash::KeyInit;
        let key = [0x21u8; 32];
        let data: Vec<u8> = (0..3000).map(|i| (i * 13 + 5) as u8).collect();
        // Runs of whole blocks in every remainder modulo the group, then a last piece of
        // any length (whole blocks, a partial one, both, or nothing).
        let runs: [&[usize]; 5] = [&[], &[224], &[16, 32, 48, 64], &[224, 1024, 48], &[80; 7]];
        for run in runs {
            for last_len in [0, 1, 15, 16, 17, 63, 64, 100, 1000] {
                let blocks: usize = run.iter().sum();
                let all = &data[..blocks + last_len];
                let mut mac = LongMac::new(&key);
                let mut at = 0;
                for len in run {
                    mac.update(&all[at..at + len]);
                    at += len;
                }
                let tag = mac.finish(&all[at..]);
                let expected: [u8; 16] = poly1305::Poly1305::new(poly1305::Key::from_slice(&key))
                    .compute_unpadded(all)
                    .into();
                assert_eq!(tag, expected, "runs {run:?}, last {last_len}");
            }
        }
    }

    #[test]
    fn hsalsa20_matches_the_reference() {
        let key = [0x4bu8; 32];
        let input = [0x11u8; 16];
        let reference = XSalsa20Poly1305::kdf(
            GenericArray::from_slice(&key),
            GenericArray::from_slice(&input),
        );
        assert_eq!(hsalsa20(&key, &input)[..], reference[..]);
    }

    #[test]
    fn a_changed_byte_or_tag_does_not_open_and_leaves_the_buffer() {
        let key = [9u8; 32];
        let nonce = [3u8; 24];
        // Short, and long enough for the `poly1305` crate's tag.
        for len in [300, CRATE_MAC_FROM + 1000] {
            let mut buf: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let tag = seal(&key, &nonce, &mut buf);
            for at in [0, 31, 32, len - 1] {
                let mut altered = buf.clone();
                altered[at] ^= 1;
                let before = altered.clone();
                assert!(!open(&key, &nonce, &tag, &mut altered), "{len}: byte {at}");
                assert_eq!(altered, before);
            }
            let mut bad_tag = tag;
            bad_tag[15] ^= 0x80;
            assert!(!open(&key, &nonce, &bad_tag, &mut buf.clone()));
            let mut other_nonce = nonce;
            other_nonce[23] ^= 1;
            assert!(!open(&key, &other_nonce, &tag, &mut buf.clone()));
            assert!(open(&key, &nonce, &tag, &mut buf), "{len}: intact");
        }
    }

    #[test]
    fn every_short_length_matches_the_reference() {
        // Up to 32 bytes take one block, to 96 two, to 160 three, then four and more.
        let key = [0x5au8; 32];
        let nonce = [0xa5u8; 24];
        for len in 0..=260usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut ours = data.clone();
            let mut theirs = data.clone();
            let tag = seal(&key, &nonce, &mut ours);
            assert_eq!(tag, reference_seal(&key, &nonce, &mut theirs), "{len}");
            assert_eq!(ours, theirs, "{len}");
            assert!(open(&key, &nonce, &tag, &mut ours), "{len}");
            assert_eq!(ours, data, "{len}");
        }
    }

    /// The key stream from block `counter` on, one block at a time in scalar words.
    fn reference_stream(stream: &Salsa20, counter: u64, len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for n in 0..len.div_ceil(64) as u64 {
            let mut input = stream.input;
            let at = counter.wrapping_add(n);
            input[8] = at as u32;
            input[9] = (at >> 32) as u32;
            let mut x = input;
            double_rounds(&mut x);
            for (w, i) in x.iter().zip(input.iter()) {
                out.extend_from_slice(&w.wrapping_add(*i).to_le_bytes());
            }
        }
        out.truncate(len);
        out
    }

    #[test]
    fn both_batch_widths_match_one_block_at_a_time() {
        let stream = Salsa20::new(&[0x3cu8; 32], &[0xc3u8; 8]);
        // Whole and partial batches of four and eight blocks, and a counter whose low word
        // wraps within a batch.
        let lengths = [1, 63, 64, 65, 255, 256, 257, 511, 512, 513, 1000, 4096 + 17];
        for counter in [4, (1 << 32) - 3] {
            for len in lengths {
                let expected = reference_stream(&stream, counter, len);
                let mut four = alloc::vec![0u8; len];
                stream.apply4(counter, &mut four);
                assert_eq!(
                    four, expected,
                    "four lanes, {len} bytes from block {counter}"
                );
                #[cfg(target_arch = "x86_64")]
                if super::super::salsa20_avx2::available() {
                    let mut eight = alloc::vec![0u8; len];
                    #[allow(unsafe_code)]
                    // SAFETY: AVX2 was found just above.
                    unsafe {
                        super::super::salsa20_avx2::xor_stream(&stream.input, counter, &mut eight);
                    }
                    assert_eq!(eight, expected, "AVX2, {len} bytes from block {counter}");
                }
            }
        }
    }

    proptest! {
        /// Every length from empty to several four-block batches and tails, against the
        /// `crypto_secretbox` crate.
        #[test]
        fn seal_and_open_match_the_reference(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
            data in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..2500),
                // Around the length from which the `poly1305` crate computes the tag.
                proptest::collection::vec(any::<u8>(), CRATE_MAC_FROM - 40..CRATE_MAC_FROM + 40),
            ],
        ) {
            let mut ours = data.clone();
            let mut theirs = data.clone();
            let tag = seal(&key, &nonce, &mut ours);
            prop_assert_eq!(tag, reference_seal(&key, &nonce, &mut theirs));
            prop_assert_eq!(&ours, &theirs);
            prop_assert!(open(&key, &nonce, &tag, &mut ours));
            prop_assert_eq!(ours, data);
        }

        /// A box sealed from bytes already in the buffer and bytes appended as it is
        /// sealed, and opened after bytes already there, across the piece boundaries.
        #[test]
        fn appended_boxes_match_the_reference(
            key in any::<[u8; 32]>(),
            nonce in any::<[u8; 24]>(),
            len in prop_oneof![
                0usize..600,
                HEAD + PIECE - 40..HEAD + PIECE + 40,
                CRATE_MAC_FROM - 300..CRATE_MAC_FROM + 300,
                3 * PIECE..6 * PIECE,
            ],
            split in any::<prop::sample::Index>(),
            before in 0usize..40,
            tamper in any::<Option<prop::sample::Index>>(),
        ) {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
            let mut theirs = data.clone();
            let expected_tag = reference_seal(&key, &nonce, &mut theirs);
            let present = split.index(len + 1);
            let mut out = alloc::vec![0xee; before];
            out.extend_from_slice(&data[..present]);
            let tag = seal_appending(&key, &nonce, &mut out, before, &data[present..]);
            prop_assert_eq!(tag, expected_tag);
            prop_assert_eq!(&out[before..], &theirs[..]);
            let mut sealed = out[before..].to_vec();
            let mut plain = alloc::vec![0x77; before];
            if let Some(at) = tamper.filter(|_| len > 0) {
                sealed[at.index(len)] ^= 0x10;
                prop_assert!(!open_appending(&key, &nonce, &tag, &sealed, &mut plain));
                prop_assert_eq!(plain, alloc::vec![0x77; before]);
                let mut in_place = sealed.clone();
                prop_assert!(!open_in_place(&key, &nonce, &tag, &mut in_place));
                prop_assert_eq!(in_place, sealed);
            } else {
                prop_assert!(open_appending(&key, &nonce, &tag, &sealed, &mut plain));
                prop_assert_eq!(&plain[..before], &alloc::vec![0x77; before][..]);
                prop_assert_eq!(&plain[before..], &data[..]);
                prop_assert!(open_in_place(&key, &nonce, &tag, &mut sealed));
                prop_assert_eq!(sealed, data);
            }
        }

        /// Tags that exercise Poly1305's final reduction: all-0xff data and keys.
        #[test]
        fn saturated_inputs_match_the_reference(len in 0usize..200, fill in prop_oneof![Just(0u8), Just(0xff)]) {
            let key = [fill; 32];
            let nonce = [fill; 24];
            let data = alloc::vec![fill; len];
            let mut ours = data.clone();
            let mut theirs = data;
            prop_assert_eq!(
                seal(&key, &nonce, &mut ours),
                reference_seal(&key, &nonce, &mut theirs)
            );
            prop_assert_eq!(ours, theirs);
        }
    }
}
