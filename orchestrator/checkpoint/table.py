"""LevelDB-format tables as TF's ``.index`` files use them, and slice-entry keys.

A table is data blocks, an (empty) metaindex block, an index block and a 48-byte
footer. A block holds entries ``varint shared | varint unshared | varint value_len |
key suffix | value``, then the restart offsets (uint32 each) and their count; every
block is followed by a type byte (0 = uncompressed) and the masked crc32c of block +
type. The footer holds the metaindex and index block handles (varint offset, size),
zero padding to 40 bytes and the magic ``0xdb4775248b80fb57``.

Slices of partitioned variables are stored under binary keys: OrderedCode of
``(0, name, rank, start_0, length_0, ...)`` — hence they begin with ``\\x00``.
"""
from __future__ import annotations

import struct
from collections.abc import Sequence

import crc32c

from orchestrator.errors import DataLossError, UnimplementedError

MAGIC = 0xdb4775248b80fb57
FOOTER_SIZE = 48
BLOCK_SIZE = 262144
RESTART_INTERVAL = 16
_MASK_DELTA = 0xa282ead8


def mask_crc(crc: int) -> int:
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask_crc(masked: int) -> int:
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked_crc32c(data: bytes | memoryview) -> int:
    return mask_crc(crc32c.crc32c(data))


def put_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def get_varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DataLossError(f"{where}: truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


# --------------------------------------------------------------------- writing

def _block(rows: Sequence[tuple[bytes, bytes]]) -> bytes:
    out, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(rows):
        shared = 0
        if i % RESTART_INTERVAL == 0:
            restarts.append(len(out))
        else:
            limit = min(len(key), len(last))
            while shared < limit and key[shared] == last[shared]:
                shared += 1
        out += put_varint(shared) + put_varint(len(key) - shared) + put_varint(len(value))
        out += key[shared:] + value
        last = key
    restarts = restarts or [0]
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _separator(last: bytes, nxt: bytes | None) -> bytes:
    """A short key >= ``last`` and < ``nxt`` (LevelDB's bytewise shortening)."""
    if nxt is not None:
        common = 0
        while common < min(len(last), len(nxt)) and last[common] == nxt[common]:
            common += 1
        if common < min(len(last), len(nxt)):
            byte = last[common]
            if byte < 0xFF and byte + 1 < nxt[common]:
                return last[:common] + bytes([byte + 1])
        return last
    for i, byte in enumerate(last):
        if byte != 0xFF:
            return last[:i] + bytes([byte + 1])
    return last


def build_table(rows: Sequence[tuple[bytes, bytes]], snappy_blocks: bool = False) -> bytes:
    """Serialize sorted ``(key, value)`` rows as a table TF's reader accepts.

    TF writes uncompressed blocks; ``snappy_blocks`` compresses the data blocks as
    other LevelDB writers may (tests of the reader use it).
    """
    out = bytearray()
    handles: list[tuple[bytes, int, int]] = []

    def emit(block: bytes, compress: bool = False) -> tuple[int, int]:
        kind = b"\x00"
        if compress:
            import snappy
            block, kind = snappy.compress(block), b"\x01"
        offset = len(out)
        out.extend(block)
        out.extend(kind + struct.pack("<I", masked_crc32c(block + kind)))
        return offset, len(block)

    pending: list[tuple[bytes, bytes]] = []
    size = 0
    for i, (key, value) in enumerate(rows):
        pending.append((key, value))
        size += len(key) + len(value) + 8
        if size >= BLOCK_SIZE:
            nxt = rows[i + 1][0] if i + 1 < len(rows) else None
            handles.append((_separator(key, nxt), *emit(_block(pending), snappy_blocks)))
            pending, size = [], 0
    if pending:
        handles.append((_separator(pending[-1][0], None), *emit(_block(pending), snappy_blocks)))
    meta = emit(_block([]))
    index = emit(_block([(k, put_varint(o) + put_varint(s)) for k, o, s in handles]))
    footer = put_varint(meta[0]) + put_varint(meta[1]) + put_varint(index[0]) + put_varint(index[1])
    out += footer.ljust(FOOTER_SIZE - 8, b"\x00") + struct.pack("<Q", MAGIC)
    return bytes(out)


# --------------------------------------------------------------------- reading

def _read_block(data: bytes, offset: int, size: int, where: str) -> bytes:
    end = offset + size
    if offset < 0 or size < 0 or end + 5 > len(data):
        raise DataLossError(f"{where}: block handle ({offset}, {size}) points beyond the end of the file "
                            f"({len(data)} bytes)")
    block = data[offset:end]
    kind = data[end]
    (stored,) = struct.unpack_from("<I", data, end + 1)
    if masked_crc32c(data[offset:end + 1]) != stored:
        raise DataLossError(f"{where}: block at offset {offset} fails its crc32c check (corrupt index)")
    if kind == 1:
        return _snappy_uncompress(block, offset, where)
    if kind != 0:
        raise DataLossError(f"{where}: block at offset {offset} has unknown compression type {kind}")
    return block


def _snappy_uncompress(block: bytes, offset: int, where: str) -> bytes:
    """Decode a snappy-compressed block (type 1), which LevelDB writers may produce."""
    try:
        import snappy
    except ImportError:
        raise UnimplementedError(f"{where}: block at offset {offset} is snappy-compressed; install "
                                 f"python-snappy to read it") from None
    declared, _ = get_varint(block, 0, where)
    # A snappy element of 3 bytes expands to at most 64, so a larger claim is corruption;
    # checking it first avoids allocating whatever a corrupt header asks for.
    if declared > 22 * len(block) + 64:
        raise DataLossError(f"{where}: snappy block at offset {offset} claims {declared} bytes from "
                            f"{len(block)} compressed bytes")
    try:
        return snappy.uncompress(block)
    except Exception as exc:       # python-snappy raises its own error types
        raise DataLossError(f"{where}: cannot decompress snappy block at offset {offset}: {exc}") from None


def _block_rows(block: bytes, where: str) -> list[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise DataLossError(f"{where}: block too small ({len(block)} bytes)")
    (count,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * count
    if count == 0 or limit < 0:
        raise DataLossError(f"{where}: bad restart array ({count} restarts in a {len(block)}-byte block)")
    rows, pos, last = [], 0, b""
    while pos < limit:
        shared, pos = get_varint(block, pos, where)
        unshared, pos = get_varint(block, pos, where)
        vlen, pos = get_varint(block, pos, where)
        if shared > len(last) or pos + unshared + vlen > limit:
            raise DataLossError(f"{where}: corrupt block entry at {pos}")
        key = last[:shared] + block[pos:pos + unshared]
        pos += unshared
        rows.append((key, block[pos:pos + vlen]))
        pos += vlen
        last = key
    return rows


def read_table(data: bytes, where: str) -> list[tuple[bytes, bytes]]:
    """All ``(key, value)`` rows of a table, in order."""
    if len(data) < FOOTER_SIZE:
        raise DataLossError(f"{where}: {len(data)} bytes is too short for a table footer (truncated)")
    footer = data[-FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, FOOTER_SIZE - 8)
    if magic != MAGIC:
        raise DataLossError(f"{where}: bad table magic {magic:#x} (not a checkpoint index, or truncated)")
    pos = 0
    handle = []
    for _ in range(4):
        value, pos = get_varint(footer, pos, where)
        handle.append(value)
    index = _read_block(data, handle[2], handle[3], where)
    rows: list[tuple[bytes, bytes]] = []
    for _, value in _block_rows(index, where):
        offset, p = get_varint(value, 0, where)
        size, _ = get_varint(value, p, where)
        rows.extend(_block_rows(_read_block(data, offset, size, where), where))
    return rows


# --------------------------------------------------------------------- slice keys

def _num_increasing(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(raw)]) + raw


def _signed_increasing(value: int) -> bytes:
    x = ~value if value < 0 else value
    if x < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = 2
    while x >= 1 << (7 * length - 1):
        length += 1
    raw = bytearray((value & ((1 << (8 * length)) - 1)).to_bytes(length, "big"))
    header = (0xFF << (8 - length)) & 0xFF if length <= 8 else 0xFF
    raw[0] ^= header
    if length > 8:
        raw[1] ^= (0xFF << (16 - length)) & 0xFF
    return bytes(raw)


def encode_slice_key(name: str, extents: Sequence[tuple[int, int]]) -> bytes:
    """Index key of one saved slice: OrderedCode (0, name, rank, start, length, ...)."""
    escaped = _escape(name.encode("utf-8"))
    out = bytearray(_num_increasing(0) + escaped + b"\x00\x01" + _num_increasing(len(extents)))
    for start, length in extents:
        out += _signed_increasing(start) + _signed_increasing(length)
    return bytes(out)


def _escape(raw: bytes) -> bytes:
    out = bytearray()
    for byte in raw:
        out += b"\x00\xff" if byte == 0 else b"\xff\x00" if byte == 0xFF else bytes([byte])
    return bytes(out)


def _read_signed(key: bytes, pos: int) -> tuple[int, int]:
    first = key[pos]
    negative = first < 0x80
    probe = first ^ 0xFF if negative else first
    length = 1
    while length < 8 and probe & (0x80 >> length):
        length += 1
    raw = bytearray(key[pos:pos + length])
    if length == 1:
        value = (raw[0] ^ 0x80)
        return (value - 256 if negative else value), pos + 1
    raw[0] ^= (0xFF << (8 - length)) & 0xFF
    value = int.from_bytes(raw, "big")
    if negative:
        value -= 1 << (8 * length)
    return value, pos + length


def decode_slice_extents(key: bytes) -> tuple[tuple[int, int], ...]:
    """Inverse of :func:`encode_slice_key` for the extents (name skipped)."""
    pos = 1                                    # NumIncreasing(0)
    while not (key[pos] == 0 and key[pos + 1] == 1):
        pos += 2 if key[pos] in (0, 0xFF) else 1
    pos += 2
    rank = int.from_bytes(key[pos + 1:pos + 1 + key[pos]], "big")
    pos += 1 + key[pos]
    extents = []
    for _ in range(rank):
        start, pos = _read_signed(key, pos)
        length, pos = _read_signed(key, pos)
        extents.append((start, length))
    return tuple(extents)


def describe_key(key: bytes) -> str:
    """A readable name for an index key (slice keys shown as ``name[start:len,...]``)."""
    if not key.startswith(b"\x00"):
        return repr(key.decode("utf-8", "replace"))
    end = key.find(b"\x00\x01", 1)
    name = key[1:end].replace(b"\x00\xff", b"\x00").replace(b"\xff\x00", b"\xff").decode("utf-8", "replace")
    try:
        ext = ",".join(f"{s}:{n}" for s, n in decode_slice_extents(key))
    except (IndexError, ValueError):
        ext = "?"
    return f"{name!r} slice [{ext}]"
