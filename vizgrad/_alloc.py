"""Keep freed array memory in the process instead of handing it back to the OS every step.

A training step allocates and frees the same few dozen arrays each time. With glibc's defaults,
arrays over 128 KiB are mmap'ed and, when a step's graph is freed all at once, the top of the heap
is trimmed back to the OS; the next step then page-faults on every fresh array (a (1000, 64)
float32 tanh backward took 230 us instead of 30 us here). PyTorch avoids this with its own
caching allocator; numpy has none for large blocks, so we ask glibc (Linux only) to keep up to
64 MiB of freed memory and to serve arrays up to 32 MiB from the heap.

Set VIZGRAD_MALLOC_TUNING=0 to leave malloc alone; an explicit MALLOC_TRIM_THRESHOLD_ or
MALLOC_MMAP_THRESHOLD_ in the environment also wins.

A server keeps what this keeps only while someone works: its janitor (pages/_common.py) calls
trim() once sessions have ended or the server has gone idle with its memory grown (rss_mb()). The
allocator settings of the server's process role, which must be in the environment before the
interpreter starts, are in deploy/serve.py (SERVER_ENV) and the Makefile's run target: a server
runs on jemalloc where it is installed (LD_PRELOAD), which has its own ways of keeping freed pages
for a while (MALLOC_CONF); then glibc's malloc is not used, so tune_malloc() leaves it alone and
trim() asks jemalloc to hand back its unused pages at once.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3


MALLCTL_ARENAS_ALL = 4096  # jemalloc's "every arena" index in mallctl names


def _jemalloc_mallctl():
    """jemalloc's mallctl() when jemalloc is this process's malloc (preloaded), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        mallctl = ctypes.CDLL(None).mallctl  # only jemalloc defines it
    except (OSError, AttributeError):
        return None
    mallctl.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    mallctl.restype = ctypes.c_int
    return mallctl


def allocator() -> str:
    """Which malloc this process runs on: "jemalloc" or "libc"."""
    return "jemalloc" if _jemalloc_mallctl() else "libc"


def tune_malloc(trim: int = 64 << 20, mmap: int = 32 << 20) -> bool:
    """Apply the settings; True when glibc accepted them."""
    if os.environ.get("VIZGRAD_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    if _jemalloc_mallctl():  # glibc's malloc is not the one in use
        return False
    if "MALLOC_TRIM_THRESHOLD_" in os.environ or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, mmap)) and bool(mallopt(M_TRIM_THRESHOLD, trim))


def trim() -> bool:
    """Hand freed heap memory back to the OS now (glibc's malloc_trim(0)); True when it released
    some. For a server after its sessions have gone: tune_malloc() keeps freed memory for the next
    training step, which is right while someone trains and wrong once nobody does. Under jemalloc:
    purge every arena's unused pages (what its decay would hand back within a second or so)."""
    mallctl = _jemalloc_mallctl()
    if mallctl:
        return mallctl(f"arena.{MALLCTL_ARENAS_ALL}.purge".encode(), None, None, None, 0) == 0
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        malloc_trim = libc.malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return bool(malloc_trim(0))


def rss_mb() -> float:
    """This process's resident set size in MB (0.0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0
