use super::flags::*;
use super::*;

/// What glibc's pthread_create passes (clone3 since 2.34; the same flags to clone).
const GLIBC: u64 = CLONE_VM
    | CLONE_FS
    | CLONE_FILES
    | CLONE_SIGHAND
    | CLONE_THREAD
    | CLONE_SYSVSEM
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_CLEARTID;
/// What musl's pthread_create passes.
const MUSL: u64 = GLIBC | CLONE_DETACHED;

fn thread_args(flags: u64) -> CloneArgs {
    CloneArgs::legacy(flags, 0x7000, 0x100, 0x200, 0x300)
}

#[test]
fn glibc_and_musl_threads() {
    let want = ThreadSpec {
        stack: Some(0x7000),
        tls: Some(0x300),
        parent_tid: Some(0x100),
        child_settid: None,
        child_cleartid: Some(0x200),
    };
    assert_eq!(thread_spec(&thread_args(GLIBC)), Ok(want));
    assert_eq!(thread_spec(&thread_args(MUSL)), Ok(want));
}

#[test]
fn legacy_flags_keep_32_bits_and_the_exit_signal_apart() {
    let a = CloneArgs::legacy(0xdead_0000_0000_0000 | GLIBC | 17, 1, 2, 3, 4);
    assert_eq!(a.flags, GLIBC);
    assert_eq!(a.exit_signal, 17);
    assert_eq!(a.pidfd, 2, "the legacy call returns a pidfd through parent_tid");
    // A thread's exit signal is ignored by the legacy call.
    assert!(thread_spec(&a).is_ok());
}

#[test]
fn without_optional_flags_the_child_inherits() {
    let spec = thread_spec(&CloneArgs::legacy(THREAD_SHARES, 0, 1, 2, 3)).unwrap();
    assert_eq!(spec, ThreadSpec { stack: None, tls: None, parent_tid: None, child_settid: None, child_cleartid: None });
    let spec = thread_spec(&thread_args(THREAD_SHARES | CLONE_CHILD_SETTID)).unwrap();
    assert_eq!(spec.child_settid, Some(0x200));
}

#[test]
fn linux_consistency_rules_are_einval() {
    let einval = Err(CloneError::Errno(Errno::EINVAL));
    // CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM.
    assert_eq!(thread_spec(&thread_args(CLONE_VM | CLONE_THREAD)), einval);
    assert_eq!(thread_spec(&thread_args(CLONE_SIGHAND)), einval);
    assert_eq!(thread_spec(&thread_args(CLONE_NEWNS | CLONE_FS)), einval);
    assert_eq!(thread_spec(&thread_args(CLONE_NEWUSER | CLONE_FS)), einval);
    assert_eq!(thread_spec(&thread_args(GLIBC | CLONE_NEWPID)), einval);
    // The legacy call's pidfd and parent tid share an argument.
    assert_eq!(thread_spec(&thread_args(CLONE_PIDFD | CLONE_PARENT_SETTID)), einval);
    assert_eq!(thread_spec(&thread_args(CLONE_PIDFD | CLONE_DETACHED)), einval);
}

#[test]
fn a_tls_beyond_user_space_is_eperm() {
    let mut a = thread_args(GLIBC);
    a.tls = USER_ADDR_MAX;
    assert_eq!(thread_spec(&a), Err(CloneError::Errno(Errno::EPERM)));
}

#[test]
fn processes_and_partial_sharing_are_reported_unsupported() {
    // fork, vfork, posix_spawn.
    for f in [0, CLONE_VM | CLONE_VFORK, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND] {
        assert_eq!(thread_spec(&thread_args(f | 17)), Err(CloneError::Unsupported(Unsupported::Process)), "{f:#x}");
    }
    for f in [GLIBC & !CLONE_FILES, GLIBC & !CLONE_FS, GLIBC | CLONE_VFORK, GLIBC | CLONE_PTRACE, GLIBC | CLONE_NEWNET]
    {
        assert_eq!(thread_spec(&thread_args(f)), Err(CloneError::Unsupported(Unsupported::ThreadFlags(f))), "{f:#x}");
    }
}

fn clone3(flags: u64, stack: u64, stack_size: u64) -> CloneArgs {
    CloneArgs { flags, stack, stack_size, child_tid: 0x200, parent_tid: 0x100, tls: 0x300, ..CloneArgs::default() }
}

#[test]
fn clone3_gives_the_stack_as_its_top() {
    let mut a = clone3(GLIBC, 0x10_0000, 0x2_0000);
    assert_eq!(a.check_clone3(CLONE_ARGS_SIZE_VER0), Ok(()));
    assert_eq!(thread_spec(&a).unwrap().stack, Some(0x12_0000));
}

#[test]
fn clone3_stack_rules() {
    assert_eq!(clone3(GLIBC, 0, 0).check_clone3(64), Ok(()));
    assert_eq!(clone3(GLIBC, 0, 4096).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(GLIBC, 0x1000, 0).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(GLIBC, USER_ADDR_MAX - 0x1000, 0x2000).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(GLIBC, u64::MAX - 10, 0x2000).check_clone3(64), Err(Errno::EINVAL));
}

#[test]
fn clone3_flag_rules() {
    // Bits the legacy call never had room for, CSIGNAL bits and CLONE_DETACHED are
    // refused by clone3.
    assert_eq!(clone3(GLIBC | (1 << 40), 0, 0).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(GLIBC | 17, 0, 0).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(GLIBC | CLONE_DETACHED, 0, 0).check_clone3(64), Err(Errno::EINVAL));
    assert_eq!(clone3(CLONE_VM | CLONE_SIGHAND | CLONE_CLEAR_SIGHAND, 0, 0).check_clone3(64), Err(Errno::EINVAL));
    // A thread has no exit signal.
    let mut a = clone3(GLIBC, 0, 0);
    a.exit_signal = 17;
    assert_eq!(a.check_clone3(64), Err(Errno::EINVAL));
    // Exit signals beyond the 64 signals, or with high bits, are refused.
    let mut a = clone3(0, 0, 0);
    a.exit_signal = 65;
    assert_eq!(a.check_clone3(64), Err(Errno::EINVAL));
    a.exit_signal = 1 << 32;
    assert_eq!(a.check_clone3(64), Err(Errno::EINVAL));
}

#[test]
fn clone3_set_tid_and_cgroup_rules() {
    let mut a = clone3(GLIBC, 0, 0);
    a.set_tid_size = 1;
    assert_eq!(a.check_clone3(88), Err(Errno::EINVAL));
    let mut a = clone3(GLIBC, 0, 0);
    a.set_tid = 0x1000;
    assert_eq!(a.check_clone3(88), Err(Errno::EINVAL));
    a.set_tid_size = 33;
    assert_eq!(a.check_clone3(88), Err(Errno::EINVAL));
    // CLONE_INTO_CGROUP needs the version-2 structure.
    let mut a = clone3(GLIBC | CLONE_INTO_CGROUP, 0, 0);
    assert_eq!(a.check_clone3(CLONE_ARGS_SIZE_VER0), Err(Errno::EINVAL));
    assert_eq!(a.check_clone3(CLONE_ARGS_SIZE_VER2), Ok(()));
    assert!(matches!(thread_spec(&a), Err(CloneError::Unsupported(_))));
}

#[test]
fn words_map_to_fields_in_order() {
    let words: [u64; 11] = core::array::from_fn(|i| i as u64 + 1);
    let a = CloneArgs::from_words(&words);
    assert_eq!(
        a,
        CloneArgs {
            flags: 1,
            pidfd: 2,
            child_tid: 3,
            parent_tid: 4,
            exit_signal: 5,
            stack: 6,
            stack_size: 7,
            tls: 8,
            set_tid: 9,
            set_tid_size: 10,
            cgroup: 11
        }
    );
}
