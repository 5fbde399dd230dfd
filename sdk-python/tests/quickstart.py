"""The README's quick start, which is the SDK reference's (spec 002) verbatim, made runnable.

``python quickstart.py`` runs it with ``$SECR_TEST_TOKEN`` in place of the placeholder tokens; the
client finds the server in ``$SECR_API_URL``. Nothing else in the code is changed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

# Spec 002's quick start, as printed there (the reference lost its indentation; the README has it).
SPEC_QUICKSTART = """\
from secr import SecrClient
client = SecrClient(token="secr_cli_...")
# Pull secrets
result = client.pull_secrets("my-org", "my-project", "production")
for s in result.secrets:
print(f"{s.key}={s.value}")
# Set a secret
client.set_secret("my-org", "my-project", "dev", "API_KEY", "sk-...")
# Context manager (auto-closes HTTP client)
with SecrClient(token="...") as client:
result = client.pull_secrets("my-org", "my-project", "dev")"""


def readme_quickstart() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"## Quick start\n+```python\n(.*?)```", text, re.S)
    if not match:
        raise AssertionError("README.md has no ```python block under '## Quick start'")
    return match.group(1)


def runnable(code: str, token: str) -> str:
    assert code.count('token="secr_cli_..."') == 1 and code.count('token="..."') == 1
    return code.replace('token="secr_cli_..."', f"token={token!r}").replace('token="..."', f"token={token!r}")


if __name__ == "__main__":
    exec(compile(runnable(readme_quickstart(), os.environ["SECR_TEST_TOKEN"]), "quickstart.py", "exec"))
