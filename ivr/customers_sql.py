"""CustomerDirectory over CTI's ``customers`` table (cti.models.Customer), for the IVR's lookup node."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cti.customers import normalise_number
from cti.models import Customer
from ivr.models import CustomerAccount, ShopOrder


class SqlCustomerDirectory:
    def __init__(self, sessions) -> None:
        self.sessions = sessions

    async def by_number(self, number: str) -> dict[str, Any] | None:
        key = normalise_number(number)
        if not key:
            return None
        async with self.sessions() as db:
            row = (await db.execute(select(Customer).where(Customer.number == key))).scalar_one_or_none()
            if row is None:
                return None
            account = await db.get(CustomerAccount, key)
            return {
                "balance": account.balance if account else None, "points": account.points if account else None,
                "id": row.id, "number": row.number, "name": row.name, "vip_level": int(row.vip_level or 0),
                "key_account": bool(row.key_account), "blocked": bool(row.blocked), "notes": row.notes or "",
                "language": row.language or None,
            }


class SqlOrderDirectory:
    """OrderDirectory over ivr_orders (the lookup node's ``by: order``)."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    async def by_number(self, number: str) -> dict[str, Any] | None:
        key = str(number or "").strip()
        if not key:
            return None
        async with self.sessions() as db:
            row = await db.get(ShopOrder, key)
            if row is None:
                return None
            return {"number": row.number, "status": row.status, "amount": row.amount, "created": row.created,
                    "expected_delivery": row.expected_delivery, "customer_number": row.customer_number}
