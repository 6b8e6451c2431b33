"""src/core/rng.ts in Python, bit for bit: the same seeds give the same shuffles, augmentation draws
and initial weights as the tfjs engine, so the two engines start from the same point."""
import numpy as np

M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & M32


def mulberry32(seed):
    """Uniform floats in [0, 1), the same sequence as rng.ts's mulberry32(seed)."""
    state = [seed & M32]

    def rand():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        t = state[0]
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return rand


def mulberry32_array(seed, count):
    """The first `count` values of mulberry32(seed) at once: the state after i draws is
    seed + i·0x6D2B79F5 (mod 2³²), so every draw can be computed independently."""
    with np.errstate(over='ignore'):
        a = (np.uint64(seed & M32) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(0x6D2B79F5)) & np.uint64(M32)
        t = a.astype(np.uint32)
        t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
        t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
        return (t ^ (t >> np.uint32(14))).astype(np.float64) / 4294967296


def derive_seed(seed, *parts):
    """FNV-1a over the 32-bit words (low byte first), then the murmur3 finaliser (rng.ts deriveSeed)."""
    h = 0x811C9DC5
    for v in (seed, *parts):
        v &= M32
        for shift in (0, 8, 16, 24):
            h ^= (v >> shift) & 0xFF
            h = _imul(h, 0x01000193)
    h ^= h >> 16
    h = _imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h & M32


def permutation(n, rand):
    """Fisher–Yates, drawing as rng.ts's permutation does."""
    out = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(rand() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return out


def normals(seed, count):
    """`count` standard normals as rng.ts's normal() draws them from mulberry32(seed): Box–Muller
    on consecutive pairs (u, v), cosine branch only."""
    r = mulberry32_array(seed, 2 * count)
    u, v = 1 - r[0::2], r[1::2]
    return np.sqrt(-2 * np.log(u)) * np.cos(2 * np.pi * v)
