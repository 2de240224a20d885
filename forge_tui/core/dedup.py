"""Exact and near-duplicate texts: normalisation, MinHash signatures over shingles, LSH lookup
(datasketch), and clusters of duplicates."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, pairwise

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from forge_tui.i18n import _

DEFAULT_THRESHOLD = 0.8
DEFAULT_NUM_PERM = 128
MIN_THRESHOLD, MAX_THRESHOLD = 0.05, 1.0
# Texts of fewer words than this are shingled by characters (a word shingle or two says little).
MIN_WORDS = 5
CHAR_SHINGLE = 5
CJK_SHINGLE = 2  # a Chinese or Japanese character is closer to a word than a Latin letter is
# Pairs whose similarity a cluster lists: every pair up to this size, else only the pairs LSH found.
ALL_PAIRS_UP_TO = 12
EMBEDDING_BLOCK = 512  # rows of the similarity matrix computed at once
LSH_WEIGHTS = (0.05, 0.95)  # of false positives and false negatives when LSH picks its bands
_PLANE_2 = 0x20000
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@functools.cache
def _punctuation() -> re.Pattern[str]:
    """Every punctuation or symbol character (Unicode categories P* and S*) as one class of ranges:
    a regular expression replaces them many times faster than a test per character in Python. Planes
    0 and 1 hold every such character (the planes above: ideographs, private use); built in ~0.1 s."""
    ranges: list[tuple[int, int]] = []
    for code in range(_PLANE_2):
        if unicodedata.category(chr(code))[0] in "PS":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    spans = "".join(re.escape(chr(lo)) + (f"-{re.escape(chr(hi))}" if hi > lo else "") for lo, hi in ranges)
    return re.compile(f"[{spans}]+")


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and symbols dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACES.sub(" ", _punctuation().sub(" ", folded)).strip()


def exact_key(text: str) -> str:
    """Equal for texts that are equal after normalise()."""
    return _digest(normalise(text))


def _digest(normalised: str) -> str:
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).hexdigest()


def shingles(normalised: str) -> set[bytes]:
    """Words and word pairs of a normalised text (a few words changed or moved keep most of them);
    character n-grams for short texts and for CJK text, which has no spaces between words."""
    words = normalised.split(" ")
    if _CJK.search(normalised):
        return _char_grams(normalised.replace(" ", ""), CJK_SHINGLE)
    if len(words) < MIN_WORDS:
        return _char_grams(normalised, CHAR_SHINGLE)
    grams = set(words)
    grams.update(f"{a} {b}" for a, b in pairwise(words))
    return {g.encode("utf-8") for g in grams}


def _char_grams(text: str, n: int) -> set[bytes]:
    if len(text) <= n:
        return {text.encode("utf-8")}
    return {text[i : i + n].encode("utf-8") for i in range(len(text) - n + 1)}


class NearDuplicateIndex:
    """Texts added one at a time; add() says which earlier ones the new text is a near-duplicate
    of (estimated Jaccard similarity of their shingles at or above the threshold)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = DEFAULT_NUM_PERM) -> None:
        if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise ValueError(
                _("The threshold must be between {low} and {high}.").format(low=MIN_THRESHOLD, high=MAX_THRESHOLD)
            )
        self.threshold = threshold
        self.num_perm = num_perm
        # Bands chosen to miss few true pairs: a candidate that is not similar enough costs one
        # signature comparison, a missed duplicate stays in the dataset.
        self._lsh = MinHashLSH(threshold=min(threshold, 0.99), num_perm=num_perm, weights=LSH_WEIGHTS)
        # Permutations are drawn once: MinHash() would draw them again for every text.
        template = MinHash(num_perm=num_perm)
        self._permutations, self._scheme = template.permutations, template.scheme
        self._signatures: dict[str, LeanMinHash] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: str) -> bool:
        return key in self._signatures

    def signature(self, text: str) -> LeanMinHash:
        return self._signature(normalise(text))

    def _signature(self, normalised: str) -> LeanMinHash:
        # crc32 runs in C; the affine schemes of datasketch mix its bits (fmix) before permuting.
        minhash = MinHash(
            num_perm=self.num_perm, hashfunc=zlib.crc32, permutations=self._permutations, scheme=self._scheme
        )
        minhash.update_batch(list(shingles(normalised)))
        return LeanMinHash(minhash)

    def query(self, text: str) -> list[tuple[str, float]]:
        return self._matches(self.signature(text))

    def add(self, key: str, text: str) -> list[tuple[str, float]]:
        """Adds the text under `key` (a key already added is replaced); returns the keys added
        before that it is a near-duplicate of, with their estimated similarity, most similar first."""
        return self._add(key, self.signature(text))

    def _add(self, key: str, signature: LeanMinHash) -> list[tuple[str, float]]:
        if key in self._signatures:
            self._lsh.remove(key)
        found = [(other, sim) for other, sim in self._matches(signature) if other != key]
        self._lsh.insert(key, signature, check_duplication=False)
        self._signatures[key] = signature
        return found

    def similarity(self, a: str, b: str) -> float:
        return float(self._signatures[a].jaccard(self._signatures[b]))

    def _matches(self, signature: LeanMinHash) -> list[tuple[str, float]]:
        found = []
        for other in self._lsh.query(signature):
            sim = float(signature.jaccard(self._signatures[other]))
            if sim >= self.threshold:
                found.append((str(other), sim))
        return sorted(found, key=lambda pair: -pair[1])


@dataclass
class Cluster:
    """Keys of texts that are duplicates of each other, in the order they were given; `exact` when
    all are equal after normalise(). `similarity` holds (earlier, later) pairs of members."""

    members: list[str]
    similarity: dict[tuple[str, str], float] = field(default_factory=dict)
    exact: bool = False

    @property
    def lowest(self) -> float:
        return min(self.similarity.values(), default=1.0)


@dataclass(frozen=True)
class Fingerprint:
    """What a text is compared by: the digest of its normalised form and (for near duplicates) its
    MinHash signature. Computed apart from the clustering, so that a job can make them chunk by chunk."""

    key: str
    digest: str
    signature: LeanMinHash | None = None


def fingerprint(key: str, text: str, index: NearDuplicateIndex | None) -> Fingerprint:
    """The text's fingerprint; with no index (exact duplicates only) no signature is computed."""
    normalised = normalise(text)
    signature = None if index is None else index._signature(normalised)
    return Fingerprint(key, _digest(normalised), signature)


def find_clusters(
    items: Iterable[tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    num_perm: int = DEFAULT_NUM_PERM,
    *,
    exact_only: bool = False,
) -> list[Cluster]:
    """Groups (key, text) items: texts equal after normalisation, then (unless exact_only) the
    near-duplicates among those groups. Only clusters of two or more are returned, in the order of
    their first member; members keep the order they were given in."""
    index = None if exact_only else NearDuplicateIndex(threshold, num_perm)
    return cluster_fingerprints((fingerprint(key, text, index) for key, text in items), index)


def cluster_fingerprints(items: Iterable[Fingerprint], index: NearDuplicateIndex | None) -> list[Cluster]:
    """find_clusters() over fingerprints made with `index` (an empty one: its threshold decides;
    None: exact duplicates only). Signatures of exact duplicates after the first are not looked at."""
    order: dict[str, int] = {}
    groups: dict[str, list[str]] = {}  # exact key -> members
    firsts: list[str] = []  # the first member of each exact group
    parent: dict[str, str] = {}
    edges: dict[tuple[str, str], float] = {}
    # One pass, so that the caller's texts need not all be in memory at once.
    for item in items:
        key = item.key
        if key in order:
            continue
        order[key] = len(order)
        group = groups.setdefault(item.digest, [])
        group.append(key)
        if len(group) > 1 or index is None or item.signature is None:
            continue
        firsts.append(key)
        parent[key] = key
        for other, sim in index._add(key, item.signature):
            edges[(other, key)] = sim
            parent[_root(parent, key)] = _root(parent, other)
    by_first = {group[0]: group for group in groups.values()}
    if index is None:
        return [_exact_cluster(group) for group in by_first.values() if len(group) > 1]
    joined: dict[str, list[str]] = {}
    for key in firsts:
        joined.setdefault(_root(parent, key), []).append(key)
    clusters = []
    for firsts_joined in joined.values():
        if len(firsts_joined) == 1:
            if len(by_first[firsts_joined[0]]) > 1:
                clusters.append(_exact_cluster(by_first[firsts_joined[0]]))
            continue
        clusters.append(_near_cluster(firsts_joined, by_first, edges, index, order))
    return sorted(clusters, key=lambda c: order[c.members[0]])


def _root(parent: dict[str, str], key: str) -> str:
    while parent[key] != key:
        parent[key] = parent[parent[key]]
        key = parent[key]
    return key


def _exact_cluster(group: Sequence[str]) -> Cluster:
    pairs = combinations(group, 2) if len(group) <= ALL_PAIRS_UP_TO else ((group[0], m) for m in group[1:])
    return Cluster(members=list(group), similarity={pair: 1.0 for pair in pairs}, exact=True)


def _near_cluster(
    firsts: list[str],
    by_first: dict[str, list[str]],
    edges: dict[tuple[str, str], float],
    index: NearDuplicateIndex,
    order: dict[str, int],
) -> Cluster:
    members = sorted((m for first in firsts for m in by_first[first]), key=order.__getitem__)
    similarity: dict[tuple[str, str], float] = {}
    for first in firsts:
        similarity.update({(first, m): 1.0 for m in by_first[first][1:]})
    if len(firsts) <= ALL_PAIRS_UP_TO:
        for a, b in combinations(firsts, 2):
            similarity[(a, b)] = index.similarity(a, b)
    else:
        similarity.update({pair: sim for pair, sim in edges.items() if pair[0] in by_first and pair[1] in firsts})
    return Cluster(members=members, similarity=similarity, exact=False)


def embedding_clusters(items: Sequence[tuple[str, Sequence[float]]], threshold: float) -> list[Cluster]:
    """Clusters of keys whose vectors have a cosine similarity at or above `threshold` (joined
    transitively), compared block by block so that memory stays bounded."""
    if not items:
        return []
    keys = [key for key, _vector in items]
    matrix = np.asarray([vector for _key, vector in items], dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix /= np.where(norms == 0, 1, norms)
    parent = {key: key for key in keys}
    edges: dict[tuple[str, str], float] = {}
    for start in range(0, len(keys), EMBEDDING_BLOCK):
        block = matrix[start : start + EMBEDDING_BLOCK] @ matrix.T
        for row, col in zip(*np.nonzero(block >= threshold), strict=True):
            a, b = start + int(row), int(col)
            if a < b:
                edges[(keys[a], keys[b])] = float(block[row, col])
                parent[_root(parent, keys[b])] = _root(parent, keys[a])
    joined: dict[str, list[str]] = {}
    for key in keys:
        joined.setdefault(_root(parent, key), []).append(key)
    pairs: dict[str, dict[tuple[str, str], float]] = {}
    for pair, sim in edges.items():
        pairs.setdefault(_root(parent, pair[0]), {})[pair] = sim
    return [
        Cluster(members=members, similarity=pairs.get(root, {}), exact=False)
        for root, members in joined.items()
        if len(members) > 1
    ]
