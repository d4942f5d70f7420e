/work/main/compat-tests/bench/target/x86_64-unknown-linux-gnu/release/deps/syscall_bench-fac14c949bee991a.d: src/main.rs

/work/main/compat-tests/bench/target/x86_64-unknown-linux-gnu/release/deps/syscall_bench-fac14c949bee991a: src/main.rs

src/main.rs:
