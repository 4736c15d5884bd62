"""`hotline demo` on a terminal: a progress bar while the day runs; afterwards the summary says where the day's
data is, and the commands it prints search and replay that day as they are."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shlex
import struct
import subprocess
import sys
import termios
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


def run_on_a_terminal(args: list[str], cwd: Path, timeout: float = 600) -> tuple[int, str, str]:
    """stdout to a pipe, stderr to a pseudo-terminal (where tqdm draws)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))     # a 160-column terminal
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    terminal = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError("the demo did not finish")
        try:
            chunk = os.read(master, 65536)
        except OSError:             # the child closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    out = proc.stdout.read()
    os.close(master)
    return proc.wait(timeout=60), out, terminal.decode("utf-8", "replace")


def test_the_demo_shows_progress_and_says_where_its_day_is(tmp_path: Path):
    data_dir = tmp_path / "day"
    code, out, terminal = run_on_a_terminal([HOTLINE, "demo", "--calls", "4", "--seed", "3", "--data-dir",
                                             str(data_dir)], cwd=tmp_path)
    assert code == 0, terminal[-3000:]
    bar = re.findall(r"calls done:\s+\d+%\|[^|]*\| (\d)/4 \[[^]]*placed=(\d), answered=(\d), waiting=(\d)\]", terminal)
    assert len(bar) >= 3, terminal[-2000:]
    assert bar[0][:2] == ("0", "1")                              # drawn as the first call is placed
    assert bar[-1][:2] == ("4", "4")                             # every call placed and done

    lines = out.splitlines()
    assert f"this day's data: {data_dir} (database hotline.db" in out
    search = next(line for line in lines if line.startswith("search it:")).split(":", 1)[1].split("   (")[0]
    replay = next(line for line in lines if line.startswith("replay a call:")).split(":", 1)[1].split("   (")[0]
    answered = int(re.search(r"^all queues\s+\d+\s+(\d+)", out, re.M).group(1))
    recorded = int(re.search(r"^recordings (\d+) of", out, re.M).group(1))
    assert answered > 0 and recorded == answered
    assert int(bar[-1][2]) == answered and bar[-1][3] == "0"     # the bar's figures are the day's

    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    found = subprocess.run(["bash", "-c", search.strip() + " --json"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    page = json.loads(found.stdout.splitlines()[-1])
    assert page["total"] >= recorded
    first = page["items"][0]["id"]
    wav = tmp_path / "call.wav"
    command = replay.strip().replace(" ID ", f" {first} ").replace("call.wav", shlex.quote(str(wav)))
    exported = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert wav.read_bytes()[:4] == b"RIFF"
    assert not (tmp_path / "data").exists()          # nothing landed in a data/ folder of the working directory
