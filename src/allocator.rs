//! The process's memory allocator: jemalloc, with the options built in from `.cargo/config.toml`
//! (one arena, freed pages returned to the system at once).
//!
//! With glibc's malloc the operator's RSS at 10,000 resources was 51–59 MiB for 23 MiB of live
//! heap: memory freed after the start-up burst (initial lists decoded whole, every resource's
//! first reconcile) stayed resident in per-thread arenas and between live objects. jemalloc
//! returns whole free pages, so RSS follows what the caches hold (README "Memory"). Declared in
//! the library so that the binary, the benchmarks and the tests all run on the same allocator.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
