"""The engine under vizgrad.random: torch's CPU generator, a 32-bit Mersenne Twister (mt19937).

torch seeds it with Matsumoto and Nishimura's init_genrand from the low 32 bits of the seed (the
full 64-bit seed is kept, for initial_seed()), and draws 32-bit words (`random()`) or 64-bit
words made of two of them, the first one high (`random64()`). The twist and the tempering are
the reference algorithm, which numpy's MT19937 bit generator implements in C: we hand it our key
and read raw words from it (`random_raw`), so a million words cost about a millisecond. The
engine state is the 624-word key plus a read position, as torch keeps it (see `torch_position`).

    eng = MT19937(0)
    eng.words(3)      # 32-bit words (as uint64), the stream torch.manual_seed(0) starts
    eng.words64(2)    # uint64 words (hi << 32) | lo, as torch's random64()
"""
from __future__ import annotations

import numpy as np

N = 624  # words in the state


def seed_key(seed: int) -> np.ndarray:
    """init_genrand: the 624-word key from the seed's low 32 bits (a linear recurrence, 624 steps)."""
    key = np.empty(N, dtype=np.uint32)
    x = int(seed) & 0xFFFFFFFF
    key[0] = x
    for j in range(1, N):
        x = (1812433253 * (x ^ (x >> 30)) + j) & 0xFFFFFFFF
        key[j] = x
    return key


class MT19937:
    """One stream: a numpy MT19937 bit generator holding torch's key and position."""

    __slots__ = ("seed", "_bits", "_fresh")

    def __init__(self, seed: int = 5489):
        self._bits = np.random.MT19937()
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = int(seed)  # the 64-bit seed; only its low 32 bits reach the key
        self._set(seed_key(self.seed), N)
        self._fresh = True     # torch marks a just-seeded engine as (left=1, next=0); see torch_position

    def _set(self, key: np.ndarray, pos: int) -> None:
        # pos = index of the next word to read in the current block; N means "twist first".
        self._bits.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": int(pos)}}

    def words(self, n: int) -> np.ndarray:
        """The next n 32-bit words, (n,) uint64 (numpy's raw type: no conversion pass)."""
        if n > 0:  # an empty draw (randperm(1)) leaves a just-seeded engine just-seeded, as in torch
            self._fresh = False
        return self._bits.random_raw(int(n))

    def words64(self, n: int) -> np.ndarray:
        """The next n 64-bit words, (n,) uint64: two 32-bit words each, the first one high."""
        w = self.words(2 * int(n))
        hi = w[0::2] << np.uint64(32)
        hi |= w[1::2]
        return hi

    # -- torch's (left, next) bookkeeping ---------------------------------------------------------
    def torch_position(self) -> tuple[np.ndarray, int, int]:
        """(key, left, next) as torch's mt19937_data_pod holds them: after a twist left = 625 - next;
        left == 1 means the next draw twists (next is then 0 right after seeding, else 624)."""
        st = self._bits.state["state"]
        key, pos = np.asarray(st["key"], dtype=np.uint32).copy(), int(st["pos"])
        if pos >= N:
            return key, 1, 0 if self._fresh else N
        return key, N + 1 - pos, pos

    def set_torch_position(self, key, left: int, next_: int) -> None:
        """Inverse of torch_position; the caller has checked 0 < left <= 624 and next <= 624."""
        # torch reads state[next] and twists when left runs out; in a state torch wrote, next = 625 - left.
        pos = N if left == 1 else next_
        self._set(np.asarray(key, dtype=np.uint32), pos)
        self._fresh = left == 1 and next_ == 0
