"""Random kernels that reproduce TF's CPU streams bit for bit (Philox4x32-10).

What a resumed run needs to be comparable with TF: the same op with the same
``seed``/``seed2`` attrs yields the same values, run after run. TF's recipe, followed here:

* the generator is keyed with ``seed``, the counter's upper half is ``seed2`` and its
  lower half the block number, starting at the op's per-session base, which advances by
  ``num_elements * 256`` blocks per run (``SessionState.random_offsets``);
* uniform floats put random bits under a fixed exponent and subtract 1 (one 32-bit word
  per float/half/bfloat16 element, two per double);
* normals are Box–Muller on word pairs (four words per pair of doubles), computed in
  float with the C library's ``logf``/``sinf``/``cosf`` — the functions TF calls — so the
  system libm is used when it can be loaded; otherwise correctly rounded values are used,
  which differ from glibc's in the last bit for about 1% of elements;
* truncated normals take groups of 4 (2 for double) outputs, group ``g`` reading words
  from block ``base + g * 256`` (``128`` for double) on, keeping candidates with
  ``|x| < 2`` in order;
* integers are ``minval + word % (maxval - minval)`` (64-bit: two words).

Both seeds 0 means nondeterministic, as in TF: fresh random key and counter per run.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from typing import Any

import ml_dtypes
import numpy as np

from orchestrator.dtypes import DType
from orchestrator.errors import InvalidArgumentError, UnimplementedError
from orchestrator.exec.state import KernelContext
from orchestrator.ops import philox
from orchestrator.ops.registry import kernel

_MASK64 = (1 << 64) - 1
_RESERVED_BLOCKS_PER_OUTPUT = 256
_TRUNCATE = 2.0
_ENTROPY = np.random.default_rng()


# -------------------------------------------------------------- libm transcendental

@functools.lru_cache(maxsize=None)
def _libm() -> Any:
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn, ctype in (("logf", ctypes.c_float), ("sinf", ctypes.c_float), ("cosf", ctypes.c_float),
                          ("log", ctypes.c_double), ("sin", ctypes.c_double), ("cos", ctypes.c_double)):
            getattr(lib, fn).restype = ctype
            getattr(lib, fn).argtypes = [ctype]
        return lib
    except (OSError, AttributeError):
        return None


def _apply_libm(name: str, x: np.ndarray) -> np.ndarray:
    """``name`` from the C library element-wise (what TF calls); numpy when unavailable."""
    lib = _libm()
    if lib is None:
        fn = {"logf": np.log, "sinf": np.sin, "cosf": np.cos, "log": np.log, "sin": np.sin, "cos": np.cos}[name]
        return fn(x.astype(np.float64)).astype(x.dtype)
    flat = np.fromiter(map(getattr(lib, name), x.reshape(-1).tolist()), dtype=x.dtype, count=x.size)
    return flat.reshape(x.shape)


# ---------------------------------------------------------------- transforms of words

def box_muller_float(x0: np.ndarray, x1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TF's BoxMullerFloat on word arrays: (sin, cos) normals in float32."""
    u1 = philox.words_to_unit_float32(x0)
    u1 = np.where(u1 < np.float32(1e-7), np.float32(1e-7), u1)
    v1 = (2.0 * np.pi * philox.words_to_unit_float32(x1).astype(np.float64)).astype(np.float32)
    u2 = np.sqrt(np.float32(-2.0) * _apply_libm("logf", u1))
    return _apply_libm("sinf", v1) * u2, _apply_libm("cosf", v1) * u2


def box_muller_double(x0, x1, x2, x3) -> tuple[np.ndarray, np.ndarray]:
    u1 = philox.words_to_unit_float64(x0, x1)
    u1 = np.where(u1 < 1e-7, 1e-7, u1)
    v1 = 2.0 * np.pi * philox.words_to_unit_float64(x2, x3)
    u2 = np.sqrt(-2.0 * _apply_libm("log", u1))
    return _apply_libm("sin", v1) * u2, _apply_libm("cos", v1) * u2


def _interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a, b], axis=-1).reshape(a.shape[:-1] + (-1,))


def uniform(stream: tuple[int, int, int], n: int, dtype: np.dtype) -> np.ndarray:
    key, hi, base = stream
    per_block = 2 if dtype == np.float64 else 4
    words = philox.philox_words(key, hi, base, -(-n // per_block))
    if dtype == np.float64:
        out = philox.words_to_unit_float64(words[:, 0::2], words[:, 1::2])
    elif dtype == np.float32:
        out = philox.words_to_unit_float32(words)
    elif dtype == np.float16:
        out = philox.words_to_unit_float16(words)
    elif dtype == np.dtype(ml_dtypes.bfloat16):
        out = philox.words_to_unit_bfloat16(words)
    else:
        raise InvalidArgumentError(f"random uniform floats of dtype {dtype} are not supported")
    return out.reshape(-1)[:n]


def normal(stream: tuple[int, int, int], n: int, dtype: np.dtype) -> np.ndarray:
    key, hi, base = stream
    if dtype == np.float64:
        words = philox.philox_words(key, hi, base, -(-n // 2))
        d0, d1 = box_muller_double(words[:, 0], words[:, 1], words[:, 2], words[:, 3])
        return _interleave(d0[:, None], d1[:, None]).reshape(-1)[:n]
    words = philox.philox_words(key, hi, base, -(-n // 4))
    f0, f1 = box_muller_float(words[:, 0::2], words[:, 1::2])
    return _interleave(f0, f1).reshape(-1)[:n].astype(dtype)


def truncated_normal(stream: tuple[int, int, int], n: int, dtype: np.dtype) -> np.ndarray:
    """Groups of outputs, each from its own block range, keeping candidates with |x| < 2."""
    key, hi, base = stream
    group = 2 if dtype == np.float64 else 4
    stride = group * _RESERVED_BLOCKS_PER_OUTPUT // 4
    groups = -(-n // group)
    out = np.empty((groups, group), dtype=np.float64 if dtype == np.float64 else np.float32)
    todo = np.arange(groups)
    tries = 2 if group == 4 else 3
    while todo.size:
        cands = _candidates_many(key, hi, base, todo, stride, tries, dtype)
        accept = np.abs(cands) < _TRUNCATE
        done = accept.sum(axis=1) >= group
        picked = np.argsort(~accept, axis=1, kind="stable")[:, :group]
        out[todo[done]] = np.take_along_axis(cands, picked, axis=1)[done]
        todo = todo[~done]
        tries *= 4
    return out.reshape(-1)[:n].astype(dtype)


def _candidates_many(key: int, hi: int, base: int, todo: np.ndarray, stride: int, tries: int,
                     dtype: np.dtype) -> np.ndarray:
    """Candidates of groups ``todo``: blocks ``base + g * stride + (0 .. tries-1)`` each."""
    offsets = todo.astype(np.uint64)[:, None] * np.uint64(stride) + np.arange(tries, dtype=np.uint64)
    return _block_candidates(philox.philox_blocks(key, hi, base, offsets), dtype)


def _block_candidates(words: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(groups, blocks, 4) words -> (groups, candidates) in TF's order of consumption."""
    if dtype == np.float64:
        d0, d1 = box_muller_double(words[..., 0], words[..., 1], words[..., 2], words[..., 3])
        return _interleave(d0[..., None], d1[..., None]).reshape(words.shape[0], -1)
    f0, f1 = box_muller_float(words[..., 0::2], words[..., 1::2])
    return _interleave(f0, f1).reshape(words.shape[0], -1)


def uniform_int(stream: tuple[int, int, int], n: int, lo: int, hi_val: int, dtype: np.dtype) -> np.ndarray:
    key, hi, base = stream
    if dtype == np.int64:
        words = philox.philox_words(key, hi, base, -(-n // 2)).astype(np.uint64)
        bits = (words[:, 0::2] | (words[:, 1::2] << np.uint64(32))).reshape(-1)[:n]
        span = np.uint64((hi_val - lo) & _MASK64)
        with np.errstate(over="ignore"):
            return (np.uint64(lo & _MASK64) + bits % span).view(np.int64)
    words = philox.philox_words(key, hi, base, -(-n // 4)).reshape(-1)[:n]
    span = np.uint32((hi_val - lo) & 0xFFFFFFFF)
    return (np.int64(lo) + (words % span).astype(np.int64)).astype(dtype)


# ------------------------------------------------------------------------ kernels

def _shape(shape: Any, op: str) -> tuple[int, ...]:
    dims = tuple(np.asarray(shape).reshape(-1).tolist())
    if any(d < 0 for d in dims):
        raise InvalidArgumentError(f"{op}: shape must be non-negative, found {list(dims)}")
    return dims


def _stream(ctx: KernelContext, seed: int, seed2: int, n: int) -> tuple[int, int, int]:
    """(key, counter high half, first block) for this run of the op; reserves its blocks."""
    if seed == 0 and seed2 == 0:
        key, hi = (int(v) for v in _ENTROPY.integers(0, 1 << 63, size=2))
        return key, hi, 0
    offsets = ctx.state.random_offsets
    base = offsets.get(ctx.op_name, 0)
    offsets[ctx.op_name] = base + n * _RESERVED_BLOCKS_PER_OUTPUT
    return seed & _MASK64, seed2 & _MASK64, base


def _register_stateful(op: str, draw: Any) -> None:
    @kernel(op, needs_ctx=True, stateful=True)
    def random_kernel(shape: Any, *, ctx: KernelContext, seed: int = 0, seed2: int = 0,
                      dtype: DType = DType.FLOAT) -> np.ndarray:
        dims = _shape(shape, op)
        n = math.prod(dims)
        if n == 0:
            return np.zeros(dims, dtype.numpy)
        return draw(_stream(ctx, seed, seed2, n), n, dtype.numpy).reshape(dims)

    random_kernel.__name__ = random_kernel.__qualname__ = op


_register_stateful("RandomUniform", uniform)
_register_stateful("RandomStandardNormal", normal)
_register_stateful("TruncatedNormal", truncated_normal)


def _int_bounds(op: str, minval: Any, maxval: Any) -> tuple[int, int]:
    if np.ndim(minval) or np.ndim(maxval):
        raise InvalidArgumentError(f"{op}: minval and maxval must be scalars, found shapes "
                                   f"{list(np.shape(minval))} and {list(np.shape(maxval))}")
    lo, hi = int(minval), int(maxval)
    if lo >= hi:
        raise InvalidArgumentError(f"{op}: need minval < maxval, found {lo} >= {hi}")
    return lo, hi


@kernel("RandomUniformInt", needs_ctx=True, stateful=True)
def random_uniform_int(shape: Any, minval: Any, maxval: Any, *, ctx: KernelContext, seed: int = 0,
                       seed2: int = 0, Tout: DType = DType.INT32) -> np.ndarray:
    dims = _shape(shape, "RandomUniformInt")
    n = math.prod(dims)
    lo, hi = _int_bounds("RandomUniformInt", minval, maxval)
    if n == 0:
        return np.zeros(dims, Tout.numpy)
    return uniform_int(_stream(ctx, seed, seed2, n), n, lo, hi, Tout.numpy).reshape(dims)


# --------------------------------------------------------------- stateless (V2) ops

def _stateless_stream(op: str, key: Any, counter: Any, alg: Any) -> tuple[int, int, int]:
    alg = int(alg)
    if alg not in (1, 3):    # 1 = Philox, 3 = auto-select (Philox on CPU); 2 = ThreeFry
        raise UnimplementedError(f"{op}: RNG algorithm {alg} is not supported (only Philox, 1 or 3)")
    key = np.asarray(key, dtype=np.uint64).reshape(-1)
    counter = np.asarray(counter, dtype=np.uint64).reshape(-1)
    if key.size != 1 or counter.size < 2:
        raise InvalidArgumentError(f"{op}: Philox needs a key of 1 and a counter of 2 uint64s, "
                                   f"found {key.size} and {counter.size}")
    return int(key[0]), int(counter[1]), int(counter[0])


def _register_stateless(op: str, draw: Any) -> None:
    @kernel(op)
    def stateless_kernel(shape: Any, key: Any, counter: Any, alg: Any, *,
                         dtype: DType = DType.FLOAT) -> np.ndarray:
        dims = _shape(shape, op)
        n = math.prod(dims)
        stream = _stateless_stream(op, key, counter, alg)
        return draw(stream, n, dtype.numpy).reshape(dims) if n else np.zeros(dims, dtype.numpy)

    stateless_kernel.__name__ = stateless_kernel.__qualname__ = op


_register_stateless("StatelessRandomUniformV2", uniform)
_register_stateless("StatelessRandomNormalV2", normal)
_register_stateless("StatelessTruncatedNormalV2", truncated_normal)


@kernel("StatelessRandomUniformIntV2")
def stateless_random_uniform_int_v2(shape: Any, key: Any, counter: Any, alg: Any, minval: Any,
                                    maxval: Any, *, dtype: DType = DType.INT32) -> np.ndarray:
    op = "StatelessRandomUniformIntV2"
    dims = _shape(shape, op)
    n = math.prod(dims)
    lo, hi = _int_bounds(op, minval, maxval)
    return uniform_int(_stateless_stream(op, key, counter, alg), n, lo, hi, dtype.numpy).reshape(dims)


# ------------------------------------------------------------------- RandomShuffle

@kernel("RandomShuffle", needs_ctx=True, stateful=True)
def random_shuffle(value: Any, *, ctx: KernelContext, seed: int = 0, seed2: int = 0,
                   T: Any = None) -> np.ndarray:
    """TF's forward Fisher–Yates along axis 0: step k swaps row k with row k + word_k % (n - k),
    words read one by one from the op's stream, which then skips ceil((n - 1) / 4) blocks."""
    value = np.asarray(value)
    if value.ndim == 0 or value.size <= 1 or value.shape[0] <= 1:
        return value
    n = value.shape[0]
    if n >= 1 << 32:
        raise UnimplementedError(f"RandomShuffle: {n} rows need TF's 64-bit draws, not supported")
    draws = n - 1
    blocks = -(-draws // 4)
    if seed == 0 and seed2 == 0:
        key, hi = (int(v) for v in _ENTROPY.integers(0, 1 << 63, size=2))
        base = 0
    else:
        key, hi = seed & _MASK64, seed2 & _MASK64
        base = ctx.state.random_offsets.get(ctx.op_name, 0)
        ctx.state.random_offsets[ctx.op_name] = base + blocks
    words = philox.philox_words(key, hi, base, blocks).reshape(-1)[:draws].astype(np.int64)
    targets = (np.arange(draws) + words % np.arange(n, 1, -1)).tolist()
    order = list(range(n))
    for k, j in enumerate(targets):
        order[k], order[j] = order[j], order[k]
    return value[np.array(order)]
