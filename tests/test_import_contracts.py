"""The import contracts in .importlinter hold (CI runs lint-imports too; this catches a break in a plain pytest)."""
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_are_kept():
    proc = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout
    contracts = (PROJECT_ROOT / ".importlinter").read_text(encoding="utf-8").count("[importlinter:contract:")
    assert f"Contracts: {contracts} kept" in proc.stdout
