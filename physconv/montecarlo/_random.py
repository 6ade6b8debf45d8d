"""Counter-based random numbers for jitted loops (private).

Every random number is a function of ``(key, stream, counter)`` only, never
of the thread that draws it: a stream is one particle, one cell or one row,
and its ``n``-th number is ``mix(mix(key + stream * G) + n * G)`` — the
``n``-th output of a SplitMix64 generator started at a point fixed by the
stream. So a seed gives bit-identical results whatever the number of threads
and however the steps are chunked. ``key`` comes from
``numpy.random.SeedSequence(seed)``.
"""

import math

import numba as nb
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_S32, _LOW32 = np.uint64(32), np.uint64(0xFFFFFFFF)


@nb.njit(inline="always", cache=True)
def mix(z):
    """SplitMix64 output function (a bijection of uint64 with good avalanche)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def stream(key, index):
    """Start of the stream numbered ``index`` (int) under ``key`` (uint64)."""
    return mix(key + np.uint64(index) * GOLDEN)


@nb.njit(inline="always", cache=True)
def word_at(base, counter):
    """The ``counter``-th 64-bit word of the stream starting at ``base`` (:func:`uniform_at` is its top 53 bits)."""
    return mix(base + np.uint64(counter + 1) * GOLDEN)


@nb.njit(inline="always", cache=True)
def uniform_at(base, counter):
    """The ``counter``-th uniform in [0, 1) of the stream starting at ``base``."""
    return float(word_at(base, counter) >> _S11) * _TO_UNIT


@nb.njit(inline="always", cache=True)
def half_word(word, low):
    """The low (``low`` true) or high 32 bits of a 64-bit word, as a uint64."""
    return word & _LOW32 if low else word >> _S32


@nb.njit(inline="always", cache=True)
def next_uniform(state):
    """Advance a sequential SplitMix64 state; return ``(state, u)`` with u in [0, 1)."""
    state = state + GOLDEN
    return state, float(mix(state) >> _S11) * _TO_UNIT


@nb.njit(inline="always", cache=True)
def normal_pair_at(base, counter):
    """Two independent standard normals from uniforms ``counter`` and ``counter + 1`` (Box-Muller)."""
    rad = math.sqrt(-2.0 * math.log(1.0 - uniform_at(base, counter)))  # 1 - u in (0, 1]
    ang = 2.0 * math.pi * uniform_at(base, counter + 1)
    return rad * math.cos(ang), rad * math.sin(ang)


@nb.njit(inline="always", cache=True)
def alias_draw(u, prob, alias):
    """Index drawn from a Walker alias table with one uniform ``u``."""
    k = prob.shape[0]
    x = u * k
    j = min(int(x), k - 1)
    if x - j >= prob[j]:
        j = alias[j]
    return j


@nb.njit(inline="always", cache=True)
def alias_pick(r32, threshold, alias):
    """Index drawn from a ``k``-column alias table with 32 random bits ``r32`` (a uint64 below 2**32).

    In fixed point, ``r32 * k / 2**32`` splits into a column ``j`` (the high word of the product) and a
    fraction (the low word), which keeps ``j`` when below ``threshold[j]`` (:func:`alias_thresholds`) and
    takes its alias otherwise. The drawn distribution is within ``k 2**-32`` of the table's in total
    variation (each column is hit by floor or ceil of ``2**32 / k`` values of ``r32``, and its fractions are
    spaced ``k`` apart); two draws share one 64-bit word.
    """
    x = r32 * np.uint64(threshold.shape[0])
    j = np.int64(x >> _S32)
    if (x & _LOW32) >= threshold[j]:
        j = alias[j]
    return j


def alias_thresholds(prob: np.ndarray) -> np.ndarray:
    """The columns' probabilities of keeping their own index, ``prob``, as 32-bit fixed point (uint64;
    ``2**32`` for a column that always keeps it)."""
    return np.minimum(np.floor(np.asarray(prob) * 2.0**32 + 0.5), 2.0**32).astype(np.uint64)


@nb.njit(cache=True)
def _stirling_tail(k):
    """log(k!) minus its Stirling approximation (k >= 0)."""
    if k < 10:
        return math.lgamma(k + 1.0) - (k + 0.5) * math.log(k + 1.0) + (k + 1.0) - 0.5 * math.log(2.0 * math.pi)
    t = 1.0 / (k + 1.0)  # one division: 1/12 t - 1/360 t^3 + 1/1260 t^5
    t2 = t * t
    return t * (1.0 / 12 - t2 * (1.0 / 360 - t2 * (1.0 / 1260)))


@nb.njit(cache=True)
def binomial(state, n, p):
    """Draw Binomial(n, p) exactly; return ``(state, k)``.

    Inversion for ``n * min(p, 1-p) < 10``; otherwise Hörmann's transformed
    rejection with squeeze (BTRS, 1993) with Stirling-tail corrections, which
    stays accurate for n up to 2**53.
    """
    if n <= 0 or p <= 0.0:
        return state, 0
    if p >= 1.0:
        return state, n
    flip = p > 0.5
    if flip:
        p = 1.0 - p
    q = 1.0 - p
    fn = float(n)
    if fn * p < 10.0:
        qn = math.exp(fn * math.log1p(-p))
        mean = fn * p
        bound = min(fn, mean + 10.0 * math.sqrt(mean * q + 1.0))
        x = 0
        px = qn
        state, u = next_uniform(state)
        while u > px:
            x += 1
            if x > bound:
                x = 0
                px = qn
                state, u = next_uniform(state)
            else:
                u -= px
                px = ((fn - x + 1.0) * p * px) / (x * q)
        k = x
    else:
        spq = math.sqrt(fn * p * q)
        b = 1.15 + 2.53 * spq
        a = -0.0873 + 0.0248 * b + 0.01 * p
        c = fn * p + 0.5
        inv_b = 1.0 / b
        vr = 0.92 - 4.2 * inv_b
        r = p / q
        alpha = (2.83 + 5.1 * inv_b) * spq
        m = math.floor((fn + 1.0) * p)
        two_a = 2.0 * a
        while True:
            state, u = next_uniform(state)
            state, v = next_uniform(state)
            u -= 0.5
            us = 0.5 - abs(u)
            kf = math.floor((two_a / us + b) * u + c)
            if kf < 0.0 or kf > fn:
                continue
            if us >= 0.07 and v <= vr:
                break
            v = math.log(v * alpha / (a / (us * us) + b))
            bound = ((m + 0.5) * math.log((m + 1.0) / (r * (fn - m + 1.0)))
                     + (fn + 1.0) * math.log1p((kf - m) / (fn - kf + 1.0))
                     + (kf + 0.5) * math.log(r * (fn - kf + 1.0) / (kf + 1.0))
                     + _stirling_tail(m) + _stirling_tail(fn - m) - _stirling_tail(kf) - _stirling_tail(fn - kf))
            if v <= bound:
                break
        k = np.int64(kf)
    return state, (n - k if flip else k)


def binomial_tables(q: np.ndarray, largest: int) -> tuple[np.ndarray, np.ndarray]:
    """Alias tables of Binomial(n, q[j]) for n = 0 ... ``largest``: ``prob[j, n, :n + 1]`` and
    ``alias[j, n, :n + 1]`` (see :func:`binomial_small`).

    The probabilities are ``exp(log C(n, x) + x log q + (n - x) log(1 - q))``, normalised; each table
    gives its pmf to within a few units of round-off.
    """
    from scipy.special import gammaln

    q = np.asarray(q, dtype=float)
    prob = np.ones((len(q), largest + 1, largest + 1))
    alias = np.zeros((len(q), largest + 1, largest + 1), dtype=np.int64)
    for j, qj in enumerate(q):
        for n in range(largest + 1):
            x = np.arange(n + 1)
            if qj <= 0.0 or qj >= 1.0:
                pmf = (x == (n if qj >= 1.0 else 0)).astype(float)
            else:
                pmf = np.exp(gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
                             + x * np.log(qj) + (n - x) * np.log1p(-qj))
            _alias_build(pmf / pmf.sum(), prob[j, n, : n + 1], alias[j, n, : n + 1])
    return prob, alias


@nb.njit(inline="always", cache=True)
def binomial_small(state, n, prob, alias):
    """Draw Binomial(n, q) from its alias table (``prob[n, :n + 1]``, ``alias[n, :n + 1]`` of
    :func:`binomial_tables`) with one uniform; return ``(state, k)``."""
    state, u = next_uniform(state)
    x = u * (n + 1)
    k = min(int(x), n)
    if x - k >= prob[n, k]:
        k = alias[n, k]
    return state, k


@nb.njit(inline="always", cache=True)
def _sort_in(i, scaled, small, large, ns, nl):
    """Push column ``i`` on the stack of under-full (``small``) or full columns; return the heights."""
    if scaled[i] < 1.0:
        small[ns] = i
        return ns + 1, nl
    large[nl] = i
    return ns, nl + 1


@nb.njit(cache=True)
def _alias_build(p, prob, alias):
    """Walker/Vose alias table of the probabilities ``p`` (sum 1) into ``prob`` and ``alias``;
    round-off leftovers keep probability 1."""
    k = p.shape[0]
    scaled = p * k
    small = np.empty(k, dtype=np.int64)
    large = np.empty(k, dtype=np.int64)
    ns, nl = 0, 0
    for i in range(k):
        prob[i] = 1.0
        alias[i] = i
        ns, nl = _sort_in(i, scaled, small, large, ns, nl)
    while ns > 0 and nl > 0:
        s = small[ns - 1]
        g = large[nl - 1]
        ns, nl = ns - 1, nl - 1
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        ns, nl = _sort_in(g, scaled, small, large, ns, nl)


def alias_table(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table ``(prob, alias)`` for a probability vector ``p`` (any positive scale)."""
    p = np.asarray(p, dtype=float).ravel()
    prob = np.empty(len(p))
    alias = np.empty(len(p), dtype=np.int64)
    _alias_build(p / p.sum(), prob, alias)
    return prob, alias


def seed_sequence(seed) -> np.random.SeedSequence:
    """A fresh ``SeedSequence`` for ``seed``: an int (or sequence of ints), or a ``SeedSequence`` such as
    a child of ``SeedSequence(s).spawn(R)`` (copied, so that spawning from it never changes the caller's)."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    return np.random.SeedSequence(seed)


def key_of(seed) -> np.uint64:
    """A 64-bit key from :func:`seed_sequence` of ``seed``."""
    return seed_sequence(seed).generate_state(1, dtype=np.uint64)[0]
