"""Vectorised string building with pyarrow.compute (no per-row Python)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

StrLike: TypeAlias = "pa.Array | str"


def pick(words: Sequence[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(words), pa.string()).take(pa.array(idx, pa.int64()))


def concat(*parts: StrLike) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def padded(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return concat(prefix, digits)


def where(mask: np.ndarray, yes: StrLike, no: StrLike) -> pa.Array:
    return pc.if_else(pa.array(mask, pa.bool_()), yes, no)


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """Random version-4 UUID strings, deterministic for the generator's state."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexes = pa.array(np.frombuffer(raw.tobytes().hex().encode(), dtype="S32")).cast(pa.string())
    cuts = [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)]
    pieces = [pc.utf8_slice_codeunits(hexes, a, b) for a, b in cuts]
    return pc.binary_join_element_wise(*pieces, "-")
