"""Where the real Asterisk 22 captures live: ../shared/asterisk beside the repository (CI's layout),
or HOTLINE_ASTERISK_CAPTURES."""
from __future__ import annotations

import os
from pathlib import Path

CAPTURES = Path(os.environ.get("HOTLINE_ASTERISK_CAPTURES",
                               Path(__file__).resolve().parents[2] / "shared" / "asterisk"))
if not CAPTURES.is_dir():
    CAPTURES = Path("/work/shared/asterisk")
