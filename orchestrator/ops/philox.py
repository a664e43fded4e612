"""Philox4x32-10, the counter-based generator behind TF's CPU random ops, vectorised.

A block is one Philox evaluation: a 128-bit counter and a 64-bit key in, four 32-bit
words out. TF's stateful random ops key the generator with ``seed`` and put ``seed2``
in the counter's upper 64 bits; the lower 64 bits are the block number, starting at the
op's per-session base (which advances by ``num_elements * 256`` per run).

This module only produces words and turns them into TF's uniform bits; the
distributions (Box–Muller, truncation, integer ranges) live in ``random_ops``.

    >>> words = philox_words(key=1, counter_hi=2, first_block=0, num_blocks=1)
    >>> words.shape
    (1, 4)
"""
from __future__ import annotations

import functools

import numpy as np

_MUL_A = np.uint64(0xD2511F53)
_MUL_B = np.uint64(0xCD9E8D57)
_KEY_STEP_A = 0x9E3779B9
_KEY_STEP_B = 0xBB67AE85
_LOW32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_MASK64 = (1 << 64) - 1
ROUNDS = 10


def philox_words(key: int, counter_hi: int, first_block: int, num_blocks: int) -> np.ndarray:
    """Words of blocks ``first_block .. first_block + num_blocks - 1``, shape ``(n, 4)`` uint32.

    ``key`` is the 64-bit key (TF: ``seed``), ``counter_hi`` the upper 64 counter bits
    (TF: ``seed2``); the block number fills the lower 64 bits and carries into the upper.
    """
    return philox_blocks(key, counter_hi, first_block, np.arange(num_blocks, dtype=np.uint64))


def philox_blocks(key: int, counter_hi: int, first_block: int, offsets: np.ndarray) -> np.ndarray:
    """Words of blocks ``first_block + offsets`` (any uint64 array), shape ``offsets.shape + (4,)``."""
    key &= _MASK64
    first = first_block & ((1 << 128) - 1)
    lo_start = first & _MASK64
    hi_start = ((first >> 64) + counter_hi) & _MASK64
    offsets = np.asarray(offsets, dtype=np.uint64)
    with np.errstate(over="ignore"):
        lo = np.uint64(lo_start) + offsets
    carry = lo < np.uint64(lo_start)        # the low half wrapped: carry into the high half
    hi = np.full(offsets.shape, hi_start, dtype=np.uint64)
    if carry.any():
        with np.errstate(over="ignore"):
            hi = hi + carry.astype(np.uint64)
    # Rows: the even lanes (c0, c2) get multiplied, the odd lanes (c1, c3) get xor-ed in.
    shape = offsets.shape
    even = np.stack([lo & _LOW32, hi & _LOW32]).reshape(2, -1)
    odd = np.stack([lo >> _SHIFT32, hi >> _SHIFT32]).reshape(2, -1)
    keys = _round_keys(key)
    for r in range(ROUNDS):
        product = even * _MULTIPLIERS       # 32x32 -> 64-bit products, exact in uint64
        np.bitwise_xor(product[::-1] >> _SHIFT32, odd, out=even)
        even ^= keys[r]
        np.bitwise_and(product[::-1], _LOW32, out=odd)
    words = np.stack([even[0], odd[0], even[1], odd[1]], axis=-1).astype(np.uint32)
    return words.reshape(shape + (4,))


_MULTIPLIERS = np.array([[_MUL_B], [_MUL_A]], dtype=np.uint64)[::-1].copy()


@functools.lru_cache(maxsize=256)
def _round_keys(key: int) -> np.ndarray:
    """The key of each round, shape (ROUNDS, 2, 1): bumped by fixed constants between rounds."""
    k0, k1 = key & 0xFFFFFFFF, key >> 32
    keys = np.array([[[(k0 + r * _KEY_STEP_A) & 0xFFFFFFFF], [(k1 + r * _KEY_STEP_B) & 0xFFFFFFFF]]
                     for r in range(ROUNDS)], dtype=np.uint64)
    keys.flags.writeable = False
    return keys


def words_to_unit_float32(words: np.ndarray) -> np.ndarray:
    """TF's uniform float in [0, 1): 23 random mantissa bits under exponent 0, minus 1."""
    bits = (words & np.uint32(0x7FFFFF)) | np.uint32(0x3F800000)
    return bits.view(np.float32) - np.float32(1.0)


def words_to_unit_float64(hi_words: np.ndarray, lo_words: np.ndarray) -> np.ndarray:
    """TF's uniform double: 20 mantissa bits from the first word, 32 from the second."""
    man = ((hi_words.astype(np.uint64) & np.uint64(0xFFFFF)) << _SHIFT32) | lo_words.astype(np.uint64)
    return (man | np.uint64(0x3FF0000000000000)).view(np.float64) - 1.0


def words_to_unit_float16(words: np.ndarray) -> np.ndarray:
    bits = ((words & np.uint32(0x3FF)) | np.uint32(15 << 10)).astype(np.uint16)
    return bits.view(np.float16) - np.float16(1.0)


def words_to_unit_bfloat16(words: np.ndarray) -> np.ndarray:
    import ml_dtypes
    bits = ((words & np.uint32(0x7F)) | np.uint32(127 << 7)).astype(np.uint16)
    return bits.view(ml_dtypes.bfloat16) - ml_dtypes.bfloat16(1.0)
