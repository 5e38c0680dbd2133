"""Make the ansible-vault vectors of ``test_ansible_format.py`` again (not a test).

    python -m venv /tmp/av && /tmp/av/bin/pip install ansible-core
    python tests/unit/vault/make_ansible_vectors.py /tmp/av/bin/ansible-vault

prints the version and, for the password of every stored vector, the file encrypted with the
default id (format 1.1) and with the id ``prod`` (1.2), and ``encrypt_string`` of a value, so
the stored vectors can be replaced by ones from a newer ansible-core. fleet's tests then check,
without the binary, that fleet reads each vector and writes the very same bytes from its salt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

PASSWORD = "fleet-vector"
FILE_TEXT = "made: by ansible \u2713\n"
INLINE_TEXT = "s3cret"


def main(binary: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        password = work / "pw"
        password.write_text(PASSWORD + "\n")
        password.chmod(0o600)
        env = dict(os.environ, HOME=tmp, ANSIBLE_LOCAL_TEMP=tmp)
        env.pop("ANSIBLE_CONFIG", None)

        def run(*args: str, stdin: str | None = None) -> str:
            return subprocess.run([binary, *args], cwd=tmp, env=env, input=stdin, text=True,
                                  capture_output=True, check=True).stdout

        print("#", run("--version").splitlines()[0])
        for option in (f"--vault-password-file={password}", f"--vault-id=prod@{password}"):
            path = work / "file.yml"
            path.write_text(FILE_TEXT)
            run("encrypt", option, str(path))
            print(f"# ansible-vault encrypt {option.split('=')[0]}")
            print(path.read_text())
        print("# ansible-vault encrypt_string --vault-id prod@pw --stdin-name token")
        print(run("encrypt_string", f"--vault-id=prod@{password}", "--stdin-name", "token", stdin=INLINE_TEXT))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ansible-vault")
