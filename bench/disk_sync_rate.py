#!/usr/bin/python3
"""Raw durability-barrier rates of the disk under a folder, for context in benchmarks.

Each test runs for a fixed time (--seconds) in a scratch folder it removes afterwards:
  fsync_1thread      append 1 KiB to a file, fsync(2); one thread
  fsync_4threads     the same in 4 threads, one file each (what concurrent fsyncs reach)
  maildir_fsync      a Maildir delivery done the classic way: write 1 KiB in tmp/, fsync it,
                     rename into new/, fsync new/ (two fsyncs per message)
  syncfs_1file       write a new 1 KiB file, syncfs(2) the filesystem
  maildir_syncfs     a one-message group commit with two barriers: write in tmp/, syncfs,
                     rename into new/, syncfs (mailsim before 2026-11-29; since then it
                     pays one barrier, syncfs_1file plus a rename)
  journal_fdatasync  overwrite a 4 KiB page of a preallocated, zero-filled 16 MiB file,
                     fdatasync(2): the barrier of mailsim's delivery journal (the default)
  journal_maildir    the same, with a new 1 KiB file written into tmp/ before each barrier
                     and renamed into new/ after it: one message as the journal mode does it
Prints one line per test: operations per second and the mean time of one operation.
Debian's /usr/bin/python3 only; no third-party modules.
"""
import argparse
import ctypes
import os
import shutil
import tempfile
import threading
import time

libc = ctypes.CDLL("libc.so.6", use_errno=True)


def syncfs(fd):
    if libc.syncfs(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


PAYLOAD = b"x" * 1023 + b"\n"


def timed(seconds, step):
    n = 0
    end = time.monotonic() + seconds
    t0 = time.monotonic()
    while time.monotonic() < end and n < 10_000_000:
        step(n)
        n += 1
    return n, time.monotonic() - t0


def fsync_append(path, seconds):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        def step(_):
            os.write(fd, PAYLOAD)
            os.fsync(fd)
        return timed(seconds, step)
    finally:
        os.close(fd)


def fsync_threads(folder, seconds, threads):
    counts = [0] * threads
    elapsed = [0.0] * threads

    def worker(i):
        counts[i], elapsed[i] = fsync_append(os.path.join(folder, f"t{i}"), seconds)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(counts), max(elapsed)


def maildir(folder):
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    return os.path.join(folder, "tmp"), os.path.join(folder, "new")


def maildir_fsync(folder, seconds):
    tmp, new = maildir(os.path.join(folder, "md_fsync"))
    dfd = os.open(new, os.O_RDONLY | os.O_DIRECTORY)
    try:
        def step(n):
            name = f"{n}.bench"
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, PAYLOAD)
            os.fsync(fd)
            os.close(fd)
            os.rename(os.path.join(tmp, name), os.path.join(new, name))
            os.fsync(dfd)
        return timed(seconds, step)
    finally:
        os.close(dfd)


def syncfs_1file(folder, seconds):
    sub = os.path.join(folder, "sfs")
    os.makedirs(sub, exist_ok=True)
    root = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        def step(n):
            fd = os.open(os.path.join(sub, f"{n}"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, PAYLOAD)
            os.close(fd)
            syncfs(root)
        return timed(seconds, step)
    finally:
        os.close(root)


def maildir_syncfs(folder, seconds):
    tmp, new = maildir(os.path.join(folder, "md_syncfs"))
    root = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        def step(n):
            name = f"{n}.bench"
            fd = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, PAYLOAD)
            os.close(fd)
            syncfs(root)
            os.rename(os.path.join(tmp, name), os.path.join(new, name))
            syncfs(root)
        return timed(seconds, step)
    finally:
        os.close(root)


JOURNAL_BYTES = 16 << 20
PAGE = b"j" * 4096


def preallocated(folder):
    path = os.path.join(folder, "journal")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    zeros = b"\0" * (1 << 20)
    for _ in range(JOURNAL_BYTES >> 20):
        os.write(fd, zeros)
    os.fsync(fd)
    return fd


def journal_fdatasync(folder, seconds, with_files=False):
    sub = os.path.join(folder, "journal_files" if with_files else "journal_only")
    os.makedirs(sub)
    fd = preallocated(sub)
    tmp, new = maildir(sub)
    try:
        def step(n):
            name = f"{n}.bench"
            if with_files:
                f = os.open(os.path.join(tmp, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                os.write(f, PAYLOAD)
                os.close(f)
            os.pwrite(fd, PAGE, (n * len(PAGE)) % JOURNAL_BYTES)
            os.fdatasync(fd)
            if with_files:
                os.rename(os.path.join(tmp, name), os.path.join(new, name))
        return timed(seconds, step)
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/var/tmp", help="a folder on the disk to measure")
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    seconds = min(max(args.seconds, 0.5), 30.0)
    scratch = tempfile.mkdtemp(prefix="disk-sync-", dir=args.dir)
    try:
        tests = [
            ("fsync_1thread", lambda: fsync_append(os.path.join(scratch, "one"), seconds)),
            ("fsync_4threads", lambda: fsync_threads(scratch, seconds, 4)),
            ("maildir_fsync", lambda: maildir_fsync(scratch, seconds)),
            ("syncfs_1file", lambda: syncfs_1file(scratch, seconds)),
            ("maildir_syncfs", lambda: maildir_syncfs(scratch, seconds)),
            ("journal_fdatasync", lambda: journal_fdatasync(scratch, seconds)),
            ("journal_maildir", lambda: journal_fdatasync(scratch, seconds, True)),
        ]
        for name, run in tests:
            os.sync()
            n, elapsed = run()
            print(f"{name:18s} {n / elapsed:9.0f} ops/s   {1000 * elapsed / max(n, 1):7.3f} ms/op"
                  f"   ({n} in {elapsed:.1f} s)", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
