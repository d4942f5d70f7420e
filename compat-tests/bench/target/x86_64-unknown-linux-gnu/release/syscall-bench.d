/work/main/compat-tests/bench/target/x86_64-unknown-linux-gnu/release/syscall-bench: /work/main/compat-tests/bench/src/main.rs
