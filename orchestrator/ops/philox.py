"""Philox4x32-10, the counter-based generator behind TF's CPU random ops, vectorised.

A block is one Philox evaluation: a 128-bit counter and a 64-bit key in, four 32-bit
words out. TF's stateful random ops key the generator with ``seed`` and put ``seed2``
in the counter's upper 64 bits; the lower 64 bits are the block number, starting at the
op's per-session base (which advances by ``num_elements * 256`` per run).

The ten rounds run as numpy ops over all blocks, or — for up to ``PACKED_MAX_BLOCKS``
blocks, where ~50 numpy calls would cost more than the arithmetic — on Python integers
that pack every block's counter word into its own 64-bit field (``_rounds_packed``).

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
    first = first_block & ((1 << 128) - 1)
    lo = first & _MASK64
    hi = ((first >> 64) + counter_hi) & _MASK64
    if num_blocks <= PACKED_MAX_BLOCKS and (lo & 0xFFFFFFFF) + num_blocks <= 1 << 32:
        # The counters' low words do not wrap within the run: only c0 differs between
        # blocks (by the block index), so the packed counters need no numpy at all.
        ones = _field_ones(num_blocks)
        return _rounds_on_fields((lo & 0xFFFFFFFF) * ones + _field_ramp(num_blocks), (lo >> 32) * ones,
                                 (hi & 0xFFFFFFFF) * ones, (hi >> 32) * ones, key & _MASK64, num_blocks)
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
    shape = offsets.shape
    if offsets.size <= PACKED_MAX_BLOCKS:
        words = _rounds_packed(lo, hi, key)
    else:
        words = _rounds_numpy(lo, hi, key)
    return words.reshape(shape + (4,))


def _rounds_numpy(lo: np.ndarray, hi: np.ndarray, key: int) -> np.ndarray:
    """The ten rounds as numpy ops over all blocks: ~50 calls, whatever the block count."""
    # Rows: the even lanes (c0, c2) get multiplied, the odd lanes (c1, c3) get xor-ed in.
    even = np.stack([lo & _LOW32, hi & _LOW32]).reshape(2, -1)
    odd = np.stack([lo >> _SHIFT32, hi >> _SHIFT32]).reshape(2, -1)
    keys = _round_keys(key)
    for r in range(ROUNDS):
        product = even * _MULTIPLIERS       # 32x32 -> 64-bit products, exact in uint64
        np.bitwise_xor(product[::-1] >> _SHIFT32, odd, out=even)
        even ^= keys[r]
        np.bitwise_and(product[::-1], _LOW32, out=odd)
    return np.stack([even[0], odd[0], even[1], odd[1]], axis=-1).astype(np.uint32)


# Up to this many blocks the rounds run on Python integers (see _rounds_packed); numpy's
# per-call overhead (~50 calls) costs more there. Measured crossover: ~400 blocks.
PACKED_MAX_BLOCKS = 256


def _rounds_packed(lo: np.ndarray, hi: np.ndarray, key: int) -> np.ndarray:
    """The ten rounds on four Python integers, one per counter word, that hold every
    block's word in its own 64-bit field. A 32-bit word times a 32-bit multiplier fits its
    field, so one integer multiply forms all blocks' products; shifts and a mask per field
    split them into high and low halves, and xors act field by field. Same arithmetic as
    ``_rounds_numpy``, ~140 integer operations for up to ``PACKED_MAX_BLOCKS`` blocks."""
    return _rounds_on_fields(_pack(lo & _LOW32), _pack(lo >> _SHIFT32), _pack(hi & _LOW32),
                             _pack(hi >> _SHIFT32), key, lo.size)


def _rounds_on_fields(x0: int, x1: int, x2: int, x3: int, key: int, n: int) -> np.ndarray:
    """The rounds on packed counter words x0..x3 of ``n`` blocks; words shape (n, 4)."""
    low = _field_ones(n) * 0xFFFFFFFF
    for k0, k1 in _packed_round_keys(key, n):
        p0 = x0 * _MUL_A_INT
        p1 = x2 * _MUL_B_INT
        x0 = ((p1 >> 32) & low) ^ x1 ^ k0
        x1 = p1 & low
        x2 = ((p0 >> 32) & low) ^ x3 ^ k1
        x3 = p0 & low
    # Field i of x0 | x1 << 32 is c1:c0 of block i: little-endian bytes read as uint32 pairs.
    words = np.empty((n, 4), dtype=np.uint32)
    words[:, :2] = np.frombuffer((x0 | (x1 << 32)).to_bytes(8 * n, "little"), dtype="<u4").reshape(n, 2)
    words[:, 2:] = np.frombuffer((x2 | (x3 << 32)).to_bytes(8 * n, "little"), dtype="<u4").reshape(n, 2)
    return words


def _pack(values: np.ndarray) -> int:
    """One Python integer with ``values[i]`` (each < 2**64) in bits 64*i .. 64*i+63."""
    return int.from_bytes(values.reshape(-1).astype("<u8").tobytes(), "little")


@functools.lru_cache(maxsize=64)
def _field_ones(n: int) -> int:
    return int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * n, "little")


@functools.lru_cache(maxsize=64)
def _field_ramp(n: int) -> int:
    """i in field i: the block offsets 0 .. n-1, packed."""
    return _pack(np.arange(n, dtype=np.uint64))


@functools.lru_cache(maxsize=256)
def _packed_round_keys(key: int, n: int) -> tuple[tuple[int, int], ...]:
    """Each round's two key words repeated in every field (a function of the op's seed
    attr and the output size only)."""
    ones = _field_ones(n)
    return tuple((int(k[0, 0]) * ones, int(k[1, 0]) * ones) for k in _round_keys(key))


_MUL_A_INT = int(_MUL_A)
_MUL_B_INT = int(_MUL_B)


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
