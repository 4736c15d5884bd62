"""CallerPreferences over the ivr_caller_preferences table (the language a number chose last time)."""
from __future__ import annotations

from sqlalchemy import select

from ivr.models import CallerPreference, utcnow

from .persist import finish


class SqlCallerPreferences:
    def __init__(self, sessions) -> None:
        self.sessions = sessions

    async def language(self, number: str) -> str | None:
        async with self.sessions() as db:
            row = (await db.execute(select(CallerPreference.language).where(CallerPreference.number == number))).first()
            return row[0] if row else None

    async def remember_language(self, number: str, language: str) -> None:
        async def _write() -> None:
            async with self.sessions() as db:
                async with db.begin():
                    row = await db.get(CallerPreference, number)
                    if row is None:
                        db.add(CallerPreference(number=number, language=language, updated_at=utcnow()))
                    else:
                        row.language = language
                        row.updated_at = utcnow()
        await finish(_write())
