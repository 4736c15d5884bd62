"""The installed `hotline` script: --help and --version on every level, exit codes, one-line errors."""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import hotline
import pytest

from hotline.cli import build_parser, main

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOTLINE = str(Path(sys.executable).parent / "hotline")


def run(*args: str, cwd: Path = PROJECT_ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    full_env.update(env or {})
    return subprocess.run([HOTLINE, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += command_paths(sub, prefix + (name,))
    return paths


def test_every_level_has_help_and_version(capsys):
    """Every (sub)command, including the ones domain packages register, answers --help and --version."""
    paths = command_paths(build_parser())
    assert {("serve",), ("sim",), ("demo",)} <= set(paths)
    for path in paths:
        for flag in ("--help", "--version"):
            with pytest.raises(SystemExit) as info:
                main([*path, flag])
            assert info.value.code == 0, (path, flag)
            output = capsys.readouterr().out
            if flag == "--help":
                assert output.startswith("usage: hotline" + "".join(" " + p for p in path)), (path, output)
            else:
                assert output.strip() == f"hotline {hotline.__version__}", (path, output)


def test_installed_script_answers_help_and_version():
    async def call(*args: str) -> tuple[tuple[str, ...], int, str]:
        proc = await asyncio.create_subprocess_exec(HOTLINE, *args, cwd=PROJECT_ROOT,
                                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate()
        return args, proc.returncode, out.decode() + err.decode()

    async def all_calls():
        return await asyncio.gather(*(call(*path, flag) for path in [(), ("serve",), ("sim",), ("demo",)]
                                      for flag in ("--help", "--version")))

    for args, code, output in asyncio.run(all_calls()):
        assert code == 0, (args, output)
        if args[-1] == "--help":
            assert output.startswith("usage: hotline" + "".join(" " + a for a in args[:-1])), (args, output)
        else:
            assert output.strip() == f"hotline {hotline.__version__}", (args, output)


def test_no_command_prints_usage_and_exits_2():
    result = run()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: hotline")


def test_usage_errors_exit_2():
    assert run("frobnicate").returncode == 2
    bad = run("demo", "--calls", "zero")
    assert bad.returncode == 2 and "argument --calls: must be a positive integer, got 'zero'" in bad.stderr


def test_bad_configuration_is_one_line_exit_1(tmp_path: Path):
    result = run("serve", env={"HOTLINE_AMI_PORT": "abc"})
    assert result.returncode == 1
    assert result.stderr == "hotline: error: environment: HOTLINE_AMI_PORT: must be an integer 1-65535, got 'abc'\n"

    config = tmp_path / "site" / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    toml = config / "hotline.toml"
    toml.write_text(toml.read_text().replace("port = 5038", "port = 'abc'"))
    for args in (("--config", str(config), "serve"), ("serve", "--config", str(config))):
        result = run(*args)
        assert result.returncode == 1
        assert result.stderr == ("hotline: error: config/hotline.toml: ami.port: "
                                 "must be an integer 1-65535, got 'abc'\n"), result.stderr
        assert "Traceback" not in result.stderr


def test_missing_config_directory_is_one_line_exit_1(tmp_path: Path):
    result = run("--config", str(tmp_path / "nowhere" / "config"), "serve")
    assert result.returncode == 1
    assert result.stderr.startswith("hotline: error: ") and result.stderr.endswith("hotline.toml: file not found\n")


def test_config_is_accepted_before_or_after_the_subcommand_at_every_level():
    """`--config` wherever the user puts it: before the command, after it, after the action."""
    config = str(PROJECT_ROOT / "config")
    flow = str(PROJECT_ROOT / "flows" / "hotline.yaml")
    for argv in (["--config", config, "flows", "validate", flow], ["flows", "--config", config, "validate", flow],
                 ["flows", "validate", "--config", config, flow], ["flows", "validate", flow, "--config", config]):
        assert main(argv) == 0, argv


    def every_parser(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from every_parser(sub, path + (name,))

    parsers = list(every_parser(build_parser()))
    assert len(parsers) > 10
    for path, parser in parsers:
        assert parser._option_string_actions["--config"].dest == "config_dir", path
