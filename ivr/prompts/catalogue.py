"""Prompt IDs → text per language (prompts/catalogue.yaml). Flows refer to IDs, never to files.

```yaml
prompts:
  welcome:
    zh-CN: 您好，江南云商客服中心为您服务。
    en: Hello, welcome to Jiangnan Cloud Commerce customer service.
```
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from ivr.flowdef.source import MarkedDict, Pos, read_yaml
from ivr.flowdef.model import FlowError

PROMPT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class PromptCatalogue:
    def __init__(self, texts: Mapping[str, Mapping[str, str]], path: Path | None = None):
        self._texts = {pid: dict(by_lang) for pid, by_lang in texts.items()}
        self.path = path

    @classmethod
    def load(cls, path: Path) -> "PromptCatalogue":
        """Read and check the catalogue; raises FlowError with file:line:column: reason lines."""
        path = Path(path)
        doc = read_yaml(path)
        if doc.problems:
            raise FlowError(doc.problems)
        data = doc.data
        prompts = data.get("prompts") if isinstance(data, MarkedDict) else None
        if not isinstance(prompts, MarkedDict):
            doc.problem(data.start if isinstance(data, MarkedDict) else Pos(1, 1),
                        "expected `prompts:` mapping prompt id → {language: text}")
            raise FlowError(doc.problems)
        for key in data:
            if key != "prompts":
                doc.problem(data.where(key), f"unknown top-level key {key!r} (expected prompts)")
        texts: dict[str, dict[str, str]] = {}
        for pid, by_lang in prompts.items():
            where = prompts.where(pid)
            if not isinstance(pid, str) or not PROMPT_ID.match(pid):
                doc.problem(where, f"bad prompt id {pid!r}: letters, digits, _ . - (it becomes a file name)")
                continue
            if not isinstance(by_lang, MarkedDict) or not by_lang:
                doc.problem(prompts.where_value(pid), f"prompt {pid!r} must map languages to text")
                continue
            texts[pid] = {}
            for lang, text in by_lang.items():
                if not isinstance(lang, str) or not LANGUAGE.match(lang):
                    doc.problem(by_lang.where(lang), f"bad language code {lang!r} in prompt {pid!r}")
                elif not isinstance(text, str) or not text.strip():
                    doc.problem(by_lang.where_value(lang), f"prompt {pid!r} has an empty {lang} text")
                else:
                    texts[pid][lang] = text.strip()
        if doc.problems:
            raise FlowError(doc.problems)
        return cls(texts, path)

    def ids(self) -> list[str]:
        return list(self._texts)

    def languages(self) -> list[str]:
        return sorted({lang for by_lang in self._texts.values() for lang in by_lang})

    def has_id(self, prompt_id: str) -> bool:
        return prompt_id in self._texts

    def has(self, prompt_id: str, lang: str) -> bool:
        return lang in self._texts.get(prompt_id, {})

    def text(self, prompt_id: str, lang: str) -> str:
        try:
            return self._texts[prompt_id][lang]
        except KeyError:
            raise KeyError(f"no {lang} text for prompt {prompt_id!r}") from None

    def items(self, lang: str | None = None):
        """(prompt_id, lang, text) for every text, in catalogue order."""
        for pid, by_lang in self._texts.items():
            for code, text in by_lang.items():
                if lang is None or code == lang:
                    yield pid, code, text

    @staticmethod
    def sound_name(prompt_id: str, lang: str) -> str:
        """What Asterisk plays (Playback/STREAM FILE): hotline/<lang>/<prompt_id>."""
        return f"hotline/{lang}/{prompt_id}"

    def __len__(self) -> int:
        return len(self._texts)
