//! The process's allocator on Linux with glibc: the system allocator, with
//! every block of [`LARGE`] bytes or more starting on a 64-byte boundary.
//! (The library forbids `unsafe`; an allocator cannot be written without
//! it, so it lives here, in the binary, on its own.)
//!
//! Why: glibc before the fix for its bug 30994 (Debian 12 has 2.36) copies
//! 2 KiB and more with `rep movsb` on a CPU that reports FSRM, and on AMD
//! Zen 3 and later that instruction is about 25 times slower when the
//! destination lies 1 to 15 bytes past the source, counted modulo 4 KiB
//! (`bench/copy_distance.c` measures it: 2.4 against 75 GB/s on the
//! project's AMD EPYC guest); fixed glibc no longer uses it on AMD.
//! rustls copies each decrypted TLS record (16 KiB, starting 5 bytes into
//! its read buffer) into a block of its own, and with malloc's 16-byte
//! alignment that copy kept landing in the slow case: 12-19 % of a
//! TLS-terminating relay's CPU, 2-3 % now. With both blocks on 64-byte
//! boundaries the distance is 59 modulo 64, never 1 to 15. Blocks under
//! 4 KiB are left as they are: the many small allocations, and a
//! connection's task (about 2.2 KB), cost what they did.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks from this size up start on a [`LINE`] boundary: the buffers
/// that bulk data is copied through (TLS records, relay chunks).
const LARGE: usize = 4096;

/// A cache line.
const LINE: usize = 64;

/// The system allocator, with large blocks aligned to a cache line.
pub struct LineAligned;

/// The layout actually asked of the system allocator for `layout`.
fn widened(layout: Layout) -> Layout {
    if layout.size() >= LARGE && layout.align() < LINE {
        Layout::from_size_align(layout.size(), LINE).unwrap_or(layout)
    } else {
        layout
    }
}

// SAFETY: every block is allocated, reallocated and freed by `System` with
// the same widened layout, which only raises the alignment of the caller's
// layout, so each block meets what its caller asked for.
unsafe impl GlobalAlloc for LineAligned {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: `widened` keeps the size (non-zero, as the caller's).
        unsafe { System.alloc(widened(layout)) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(widened(layout)) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this same widened layout.
        unsafe { System.dealloc(ptr, widened(layout)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = widened(layout);
        // SAFETY: the caller guarantees `new_size`, rounded up to the
        // alignment, does not overflow `isize`.
        let new = widened(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if old.align() == new.align() {
            // SAFETY: `ptr` came from `System` with `old`; `System`
            // reallocates with that alignment.
            return unsafe { System.realloc(ptr, old, new_size) };
        }
        // The block crosses `LARGE`: a new one with the other alignment.
        // SAFETY: `new` has a non-zero size; both blocks are valid for the
        // bytes copied, and `ptr` is freed with the layout it came with.
        unsafe {
            let moved = System.alloc(new);
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                System.dealloc(ptr, old);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_a_line(ptr: *const u8) -> bool {
        (ptr as usize).is_multiple_of(LINE)
    }

    #[test]
    fn large_blocks_start_on_a_line_and_small_ones_keep_their_layout() {
        assert_eq!(
            widened(Layout::from_size_align(LARGE, 1).unwrap()).align(),
            LINE
        );
        assert_eq!(
            widened(Layout::from_size_align(LARGE - 1, 8).unwrap()).align(),
            8
        );
        assert_eq!(
            widened(Layout::from_size_align(LARGE, 4096).unwrap()).align(),
            4096
        );
        // This test binary runs on the allocator too.
        for size in [LARGE, 16 * 1024, 16 * 1024 + 5, 1 << 20] {
            let block = vec![7u8; size];
            assert!(
                on_a_line(block.as_ptr()),
                "{size} bytes at {:p}",
                block.as_ptr()
            );
        }
    }

    #[test]
    fn growing_and_shrinking_across_the_threshold_keeps_every_byte() {
        let mut bytes: Vec<u8> = (0..100u8).collect();
        bytes.reserve_exact(3 * LARGE);
        assert!(on_a_line(bytes.as_ptr()));
        bytes.extend((0..3 * LARGE).map(|i| (i % 251) as u8));
        bytes.truncate(100);
        bytes.shrink_to_fit();
        assert_eq!(bytes, (0..100u8).collect::<Vec<_>>());
        let mut grown = vec![1u8; LARGE];
        grown.resize(8 * LARGE, 2);
        assert!(on_a_line(grown.as_ptr()));
        assert!(grown[..LARGE].iter().all(|&b| b == 1) && grown[LARGE..].iter().all(|&b| b == 2));
    }
}
