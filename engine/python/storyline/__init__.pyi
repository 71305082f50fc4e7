# Type stubs of the package storyline (the module _storyline is C++, built with pybind11).
import datetime
import os
from typing import Any, Iterable, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy
import numpy.typing

__version__: str

Record = Union[str, bytes, Mapping[str, Any]]
DateLike = Union[str, datetime.date, None]

class CorruptIndexError(ValueError): ...

class DedupResult:
    ids: list[str]
    groups: numpy.typing.NDArray[numpy.int64]
    keep: numpy.typing.NDArray[numpy.bool_]
    similarity: numpy.typing.NDArray[numpy.float32]
    num_groups: int
    num_duplicates: int
    candidate_pairs: int
    verified_pairs: int
    boilerplate: int
    seconds: float
    def __len__(self) -> int: ...

class ClusterResult:
    ids: list[str]
    dup_group: list[str]
    dup_of: list[Optional[str]]
    similarity: numpy.typing.NDArray[numpy.float32]
    story: list[str]
    thread: list[str]
    language: list[str]
    stories: list[dict[str, Any]]
    threads: list[dict[str, Any]]
    num_duplicates: int
    time_blocks: int
    seconds: float
    def __len__(self) -> int: ...

def dedup(
    records: Iterable[Record],
    *,
    jobs: int = 0,
    batch_size: int = 8192,
    method: Literal["minhash", "simhash"] = "minhash",
    threshold: float = 0.45,
    num_perm: int = 128,
    bands: int = 0,
    rows: int = 0,
    max_hamming: int = 4,
    shingle: Literal["word", "char"] = "word",
    ngram: int = 5,
    verify: Literal["estimate", "exact"] = "estimate",
    seed: int = 1,
    containment: float = 0.7,
    min_contained_shingles: int = 30,
    min_titled_shingles: int = 10,
    boilerplate_df: float = 0.01,
    boilerplate_sample: int = 2000,
    id_field: str = "id",
    text_field: str = "text",
    title_field: str = "title",
    date_field: Optional[str] = "date",
) -> DedupResult: ...

def cluster(
    records: Iterable[Record],
    *,
    jobs: int = 0,
    batch_size: int = 8192,
    lexicon: Union[str, os.PathLike[str]] = "auto",
    story_threshold: float = ...,
    dated_story_threshold: float = ...,
    thread_threshold: float = ...,
    window_days: int = ...,
    neighbors: int = ...,
    background_rank: int = ...,
    background_by_language: bool = ...,
    thread_entity_boost: float = ...,
    thread_pivot_boost: float = ...,
    thread_name_boost: float = ...,
    thread_name_share: float = ...,
    thread_language_threshold: float = ...,
    thread_min_stories: int = ...,
    thread_join_threshold: float = ...,
    thread_refine_rounds: int = ...,
    max_row_terms: int = ...,
    max_story_terms: int = ...,
    time_block: int = ...,
    bigrams: bool = ...,
    title_weight: float = ...,
    entity_weight: float = ...,
    own_term_weight: float = ...,
    stem: str = ...,
    bridge_weight: float = ...,
    name_key_weight: float = ...,
    dedup_threshold: float = ...,
    containment: float = ...,
    report: str = ...,
    gold: str = ...,
    gold_story_field: str = ...,
    gold_thread_field: str = ...,
    id_field: str = "id",
    text_field: str = "text",
    title_field: str = "title",
    date_field: Optional[str] = "date",
    **dedup_knobs: Any,
) -> ClusterResult: ...

def minhash(
    texts: Iterable[Union[str, bytes]],
    *,
    num_perm: int = 128,
    seed: int = 1,
    shingle: Literal["word", "char"] = "word",
    ngram: int = 5,
    jobs: int = 0,
) -> numpy.typing.NDArray[numpy.uint32]: ...

def jaccard(a: numpy.typing.ArrayLike, b: numpy.typing.ArrayLike) -> float: ...

class DedupIndex:
    def __init__(
        self,
        *,
        threshold: float = 0.45,
        num_perm: int = 128,
        method: Literal["minhash", "simhash"] = "minhash",
        **knobs: Any,
    ) -> None: ...
    def insert(self, key: str, text: Union[str, bytes], *, title: Optional[str] = None, date: DateLike = None) -> None: ...
    def insert_many(
        self,
        keys: Iterable[str],
        texts: Iterable[Union[str, bytes]],
        *,
        titles: Optional[Iterable[str]] = None,
        dates: Optional[Iterable[DateLike]] = None,
    ) -> None: ...
    @overload
    def query(self, text: Union[str, bytes], *, title: Optional[str] = None, with_similarity: Literal[False] = False) -> list[str]: ...
    @overload
    def query(self, text: Union[str, bytes], *, title: Optional[str] = None, with_similarity: Literal[True]) -> list[Tuple[str, float]]: ...
    def query_many(self, texts: Iterable[Union[str, bytes]], *, with_similarity: bool = False) -> list[list[Any]]: ...
    def __contains__(self, key: object) -> bool: ...
    def remove(self, key: str) -> None: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...
    def save(self, path: Union[str, os.PathLike[str]]) -> None: ...
    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> "DedupIndex": ...
    @property
    def params(self) -> dict[str, Any]: ...

class Feed:
    def __init__(self, path: Union[str, os.PathLike[str]], *, lexicon: str = "auto", sync: bool = True, **knobs: Any) -> None: ...
    def add(self, record: Record) -> dict[str, Any]: ...
    def add_many(self, records: Iterable[Record]) -> list[dict[str, Any]]: ...
    def lookup(self, record: Record) -> dict[str, Any]: ...
    def get(self, id: str) -> Optional[dict[str, Any]]: ...
    def remove(self, id: str) -> None: ...
    def counts(self) -> dict[str, int]: ...
    def __len__(self) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Feed": ...
    def __exit__(self, *exc: object) -> None: ...
