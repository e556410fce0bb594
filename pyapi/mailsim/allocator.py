"""The command line's memory allocator: mimalloc, when it is installed.

A simulation allocates and frees small objects at a high rate (protocol lines, replies,
queue records): glibc's malloc and free are about a fifth of a run's instructions
(docs/benchmarks.md), and mimalloc, the allocator built for that pattern, takes about a
fifth off the CPU time of the benchmark scenarios. A shared library cannot replace malloc
for the process that loads it (Python and everything loaded before keep glibc's, and each
block must go back to the allocator that made it), so the command line re-executes itself
once, with the library in LD_PRELOAD, before anything else is loaded. The choice changes
no result: transcripts and reports are byte for byte the same either way.

MAILSIM_MALLOC=system keeps glibc's allocator. An LD_PRELOAD that is already set (a
sanitizer runtime, a profiler) is left alone. The re-executed process removes the variable
from its environment, so the programs it starts do not inherit the allocator.
"""

import ctypes.util
import os
import sys

_MARK = "MAILSIM_ALLOCATOR_PRELOADED"
_LIBRARY = "mimalloc"


def preload_plan(environ, find_library=ctypes.util.find_library):
    """The environment to re-execute with, or None to go on in this process."""
    if environ.get(_MARK) or environ.get("LD_PRELOAD"):
        return None
    if environ.get("MAILSIM_MALLOC", _LIBRARY) != _LIBRARY:
        return None
    soname = find_library(_LIBRARY)  # e.g. "libmimalloc.so.2", found by the dynamic loader
    if not soname:
        return None
    return dict(environ, LD_PRELOAD=soname, **{_MARK: soname})


def use_preferred_allocator():
    """Re-executes this command with the preferred allocator, or returns when it is in use,
    not installed or not wanted. Call it first thing, before loading mailsim._core."""
    if os.environ.get(_MARK):
        # Re-executed: the allocator is loaded; the programs we start need not have it.
        os.environ.pop("LD_PRELOAD", None)
        return
    env = preload_plan(os.environ)
    if env is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, sys.orig_argv, env)
    except OSError:
        return  # cannot re-execute (no sys.executable): glibc's allocator does the same work
