//! Panics: first one caught by `catch_unwind` (needs working unwinding: .eh_frame found
//! through the program headers), then an uncaught one → exit status 101 with the
//! standard message on stderr (deterministic while RUST_BACKTRACE is unset).

fn main() {
    println!("about to panic inside catch_unwind");
    let caught = std::panic::catch_unwind(|| {
        panic!("first panic, caught");
    });
    println!("caught: {}", caught.is_err());
    let msg = caught
        .err()
        .and_then(|p| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    println!("payload: {msg:?}");

    let v: Vec<u32> = Vec::new();
    let r = std::panic::catch_unwind(|| v[std::env::args().count() + 2]);
    println!("index out of bounds caught: {}", r.is_err());

    println!("about to panic for real");
    panic!("probe panic: value {}", 42);
}
