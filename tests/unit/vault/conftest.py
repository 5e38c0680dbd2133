"""Helpers of the vault tests: password files and a keyring on them."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

PASSWORD = "fleet-vector"  # the password of every stored vector


@pytest.fixture
def password_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a 0600 password file: ``password_file("pw", name="prod.pw")``."""

    def write(password: str = PASSWORD, name: str = "vault.pw", mode: int = 0o600) -> Path:
        path = tmp_path / name
        path.write_text(password + "\n")
        os.chmod(path, mode)
        return path

    return write


@pytest.fixture
def script(tmp_path: Path) -> Callable[..., Path]:
    """Write an executable shell script: ``script("echo pw", name="pw.sh")``."""

    def write(body: str, name: str = "vault-pass.sh") -> Path:
        path = tmp_path / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        os.chmod(path, 0o700)
        return path

    return write
