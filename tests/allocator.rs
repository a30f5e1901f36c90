//! The operator runs on jemalloc with the options `.cargo/config.toml` builds in (README "Memory"):
//! a build that missed them (another working directory, a changed config) fails here.

// Links the library, which declares the global allocator.
use hwcloud_backup_operator as _;

#[test]
fn the_allocator_keeps_one_arena_and_returns_freed_pages_at_once() {
    let built_in = tikv_jemalloc_ctl::config::malloc_conf::read().expect("jemalloc answers");
    // The string comes back with its C terminator.
    assert_eq!(
        built_in.trim_end_matches('\0'),
        "narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0"
    );
    assert_eq!(tikv_jemalloc_ctl::opt::narenas::read().expect("narenas"), 1);
}
