"""Call-attached data (1 MiB, nothing truncated) and customers (CSV import through the CLI, lookup)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cti.calldata import MAX_CALL_DATA_BYTES, CallDataInvalid, CallDataStore, CallDataTooLarge, encoded_size
from cti.customers import CustomerDirectory, CustomerImportError, normalise_number
from tests.cti.helpers import database

HOTLINE = Path(sys.executable).parent / "hotline"


def test_call_data_follows_linked_legs_and_refuses_more_than_one_mebibyte():
    store = CallDataStore()
    store.update("1.1", {"queue": "vip", "ivr_path": ["welcome"]})
    store.append_ivr_step("1.1", "menu")
    store.link("2.7", "1.1")                        # a consult/transfer leg with its own linkedid
    store.set("2.7", "note", "客户要求退款")
    assert store.get("1.1") == {"queue": "vip", "ivr_path": ["welcome", "menu"], "note": "客户要求退款"}
    assert store.get("2.7") == store.get("1.1")
    room = MAX_CALL_DATA_BYTES - store.size("1.1") - len(',"blob":""')
    store.set("1.1", "blob", "x" * room)            # exactly 1 MiB is allowed
    assert store.size("1.1") == MAX_CALL_DATA_BYTES
    before = store.get("1.1")
    with pytest.raises(CallDataTooLarge) as err:
        store.set("1.1", "one_more", "y")
    assert "over the limit of 1048576 bytes" in str(err.value) and "nothing was changed" in str(err.value)
    assert store.get("1.1") == before
    with pytest.raises(CallDataTooLarge):            # multi-byte characters count as bytes
        store.update("3.3", {"text": "汉" * (MAX_CALL_DATA_BYTES // 3)})
    assert store.get("3.3") == {}
    with pytest.raises(CallDataInvalid):
        store.update("1.1", {"bad": object()})
    with pytest.raises(CallDataInvalid):
        store.update("1.1", ["not", "a", "mapping"])
    store.update("1.1", {"blob": None})             # None deletes
    assert "blob" not in store.get("1.1")
    ended = store.end("1.1")
    assert ended["note"] == "客户要求退款" and store.get("2.7")["note"] == "客户要求退款"
    assert encoded_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_numbers_are_normalised():
    assert normalise_number("+86 138-0013-8000") == "13800138000"
    assert normalise_number("0086 (21) 5555 1234") == "2155551234"
    assert normalise_number("021-5555-1234") == "02155551234"


async def test_import_and_lookup_on_both_databases(db_url, tmp_path):
    good = tmp_path / "customers.csv"
    good.write_text("number,name,vip_level,key_account,blocked,notes,language\n"
                    "13800138000,李先生,3,yes,no,大客户经理: 王芳,zh-CN\n"
                    "021-5555-1234,上海某公司,1,1,0,,\n", encoding="utf-8")
    async with database(db_url) as sessions:
        directory = CustomerDirectory(sessions)
        report = await directory.import_csv(good)
        assert (report.inserted, report.updated) == (2, 0)
        found = await directory.by_number("+8613800138000")
        assert found == {"number": "13800138000", "name": "李先生", "vip_level": 3, "key_account": True,
                         "blocked": False, "notes": "大客户经理: 王芳", "language": "zh-CN"}
        assert (await directory.by_number("02155551234"))["name"] == "上海某公司"
        assert await directory.by_number("10086") is None
        good.write_text("number,name,vip_level\n13800138000,李总,2\n", encoding="utf-8")
        report = await directory.import_csv(good)
        assert (report.inserted, report.updated) == (0, 1)
        assert (await directory.by_number("13800138000"))["name"] == "李总"
        bad = tmp_path / "bad.csv"
        bad.write_text("number,name,vip_level,blocked\n13900000000,ok,1,0\n13900000001,x,4,0\n"
                       "13900000000,dup,0,0\n13900000002,y,0,maybe\n", encoding="utf-8")
        with pytest.raises(CustomerImportError) as err:
            await directory.import_csv(bad)
        assert err.value.problems == [
            f"{bad}:3: vip_level must be 0, 1, 2 or 3, got '4'",
            f"{bad}:4: number 13900000000 already given on line 2",
            f"{bad}:5: blocked must be 1/0, true/false, yes/no or 是/否, got 'maybe'"]
        assert await directory.by_number("13900000000") is None          # nothing imported
        unknown = tmp_path / "cols.csv"
        unknown.write_text("phone,name\n1,2\n", encoding="utf-8")
        with pytest.raises(CustomerImportError, match="must name a 'number' column"):
            await directory.import_csv(unknown)


def test_hotline_customers_import_command(tmp_path):
    csv = tmp_path / "c.csv"
    csv.write_text("number,name,vip_level,key_account\n13800138000,李先生,2,是\n", encoding="utf-8")
    env = dict(os.environ, HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
               HOTLINE_SERVICE_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([str(HOTLINE), "customers", "import", str(csv)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 customer(s): 1 added, 0 updated" in done.stdout
    shown = subprocess.run([str(HOTLINE), "customers", "show", "+86 13800138000"], env=env, capture_output=True,
                           text=True, timeout=60)
    assert shown.returncode == 0 and '"name": "李先生"' in shown.stdout
    csv.write_text("number,name,vip_level\n13800138000,李先生,9\n", encoding="utf-8")
    failed = subprocess.run([str(HOTLINE), "customers", "import", str(csv)], env=env, capture_output=True,
                            text=True, timeout=60)
    assert failed.returncode == 1
    assert f"{csv}:2: vip_level must be 0, 1, 2 or 3, got '9'" in failed.stderr
