//! The smallest probe: lines on stdout and stderr, and a last stdout line without a
//! newline (std must flush it at exit).

fn main() {
    println!("hello from unify-probes");
    println!("second stdout line");
    eprintln!("hello on stderr");
    eprintln!("second stderr line");
    print!("last stdout line, no newline");
}
