//! The process's allocator: jemalloc, told to hand freed memory back to the system within a
//! tenth of a second.
//!
//! Why not glibc's malloc: the server allocates and frees on many threads at once (request
//! bodies, batches, memtable columns that a flush on another thread frees). With glibc's
//! default of up to eight arenas per core, freed memory stays in each arena and RSS sat at
//! 2–3× the live heap; with one arena (the earlier setting) the arena's lock took about a
//! quarter of the server's CPU under load. jemalloc's thread caches need no lock, and its
//! background thread returns dirty pages after `dirty_decay_ms`.
//!
//! Measured with the issue-5 load (Day, 4 connections, 12 MiB memtable: `ganzhi serve` loaded
//! by `ganzhi load --batch 5000 --connections 4`, as `benches/peers/peers.py load --systems
//! ganzhi` runs it), interleaved runs of one engine build on this 2-core machine: glibc with
//! one arena (the build without `#[global_allocator]`) 1.4–2.5 M values/s at 100–125 MiB
//! peak; jemalloc with `dirty_decay_ms` 0 / 100 / 200 (set through `_RJEM_MALLOC_CONF`, which
//! overrides the options below): 2.2–2.3 M at 72–83 MiB, 2.5–2.7 M at 108 MiB, 2.4–3.2 M at
//! 118–142 MiB.

use std::ffi::c_char;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The options jemalloc reads at its first allocation, before `main`.
pub const OPTIONS: &std::ffi::CStr = c"background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0";

/// A pointer jemalloc may read from any thread.
#[repr(transparent)]
pub struct Options(*const c_char);

// SAFETY: the pointer is to a `'static`, immutable, NUL-terminated string.
unsafe impl Sync for Options {}

/// jemalloc's `malloc_conf` (prefixed `_rjem_` by tikv-jemalloc-sys).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: Options = Options(OPTIONS.as_ptr());

#[cfg(test)]
mod tests {
    /// Reads a `ssize_t` option through `mallctl`.
    fn option(name: &std::ffi::CStr) -> isize {
        let mut value: isize = 0;
        let mut len = std::mem::size_of::<isize>();
        // SAFETY: `name` is NUL-terminated, `value` and `len` are valid for writes of the
        // option's size (`ssize_t`), and no new value is passed.
        let rc = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut value).cast(),
                &raw mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(rc, 0, "mallctl {name:?}");
        value
    }

    #[test]
    fn jemalloc_runs_with_our_options() {
        if std::env::var_os("_RJEM_MALLOC_CONF").is_some() {
            return;
        }
        assert_eq!(option(c"opt.dirty_decay_ms"), 100);
        assert_eq!(option(c"opt.muzzy_decay_ms"), 0);
    }
}
