"""Search terms that work for Chinese and English without a search server: Han/kana/hangul text is cut
into single characters and overlapping pairs (character n-grams), other text into lower-case words.
A two-character keyword is one pair; a phrase matches when all its pairs are present (then checked as a
substring), on SQLite and PostgreSQL alike."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

MAX_TERM = 32
_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def _runs(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def index_terms(text: str) -> Counter[str]:
    """Every term a text can be found by, with how often it occurs."""
    out: Counter[str] = Counter()
    for run in _runs(text):
        if _IS_CJK.match(run):
            out.update(run)                                          # single characters
            out.update(run[i:i + 2] for i in range(len(run) - 1))   # pairs
        else:
            out[run[:MAX_TERM]] += 1
    return out


def query_terms(text: str) -> list[str]:
    """The terms a query needs: pairs for Chinese (a single character alone), words otherwise."""
    terms: list[str] = []
    for run in _runs(text):
        if _IS_CJK.match(run):
            terms += [run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)]
        else:
            terms.append(run[:MAX_TERM])
    return list(dict.fromkeys(terms))


def phrases(text: str) -> list[str]:
    """The query's runs, to confirm a match as a substring (pairs alone could come from far apart)."""
    return [run for run in _runs(text) if len(run) > 2 or not _IS_CJK.match(run)]
