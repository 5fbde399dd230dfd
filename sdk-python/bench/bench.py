"""What the SDK costs: the time `import secr` adds to `import httpx`, and the connections that
repeated calls open (against a local keep-alive HTTP server that counts them).

    /usr/bin/python3 sdk-python/bench/bench.py [runs]

Uses the checkout's src/ unless `secr` is installed in the interpreter that runs it.
"""

from __future__ import annotations

import atexit
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
try:
    import secr  # noqa: F401

    ENV = dict(os.environ)
except ImportError:
    # A compiled copy of the checkout's package, as an install has (compiling is not importing's cost).
    COPY = tempfile.mkdtemp(prefix="secr-bench-")
    atexit.register(shutil.rmtree, COPY, True)
    shutil.copytree(ROOT / "src" / "secr", Path(COPY) / "secr")
    compileall.compile_dir(COPY, quiet=1)
    sys.path.insert(0, COPY)
    ENV = {**os.environ, "PYTHONPATH": COPY}

from local_servers import http_server, send_json, url_of  # noqa: E402

from secr import SecrClient  # noqa: E402

# Wall time, and the process's CPU time (which a loaded machine distorts much less).
IMPORT = (
    "import sys, time; w0, c0 = time.perf_counter(), time.process_time(); import httpx; "
    "w1, c1 = time.perf_counter(), time.process_time(); before = set(sys.modules); import secr; "
    "w2, c2 = time.perf_counter(), time.process_time(); "
    "print((w1 - w0) * 1000, (w2 - w1) * 1000, (c1 - c0) * 1000, (c2 - c1) * 1000, len(set(sys.modules) - before))"
)


def import_cost(runs: int) -> None:
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", IMPORT], env=ENV, capture_output=True, text=True, check=True).stdout.split()
        rows.append([float(x) for x in out])
    httpx_wall, secr_wall, httpx_cpu, secr_cpu = ([r[i] for r in rows] for i in range(4))
    print(f"{runs} fresh interpreters (medians, min-max):")
    print(f"  import httpx:             {statistics.median(httpx_wall):7.1f} ms wall ({min(httpx_wall):.1f}-{max(httpx_wall):.1f}), "
          f"{statistics.median(httpx_cpu):6.1f} ms CPU")
    print(f"  import secr, after httpx: {statistics.median(secr_wall):7.1f} ms wall ({min(secr_wall):.1f}-{max(secr_wall):.1f}), "
          f"{statistics.median(secr_cpu):6.1f} ms CPU; {int(rows[0][4])} new modules, secr's own")


def connections(calls: int) -> None:
    def answer(h: BaseHTTPRequestHandler) -> None:
        send_json(h, 200, {"secrets": [{"key": "A", "value": "1", "version": 1, "updatedAt": "2026-01-02T03:04:05.678Z", "description": None}]})

    with http_server(answer) as server:
        with SecrClient(token="secr_tok_bench", api_url=url_of(server)) as client:
            started = time.perf_counter()
            for _ in range(calls):
                client.pull_secrets("o", "p", "dev")
            elapsed = time.perf_counter() - started
        print(f"{calls} pull_secrets calls on one client: {server.connections} connection(s), {elapsed / calls * 1000:.2f} ms per call (local server)")
        before = server.connections
        for _ in range(20):
            with SecrClient(token="secr_tok_bench", api_url=url_of(server)) as client:
                client.pull_secrets("o", "p", "dev")
        print(f"20 calls on 20 clients: {server.connections - before} connections (why to keep one client)")


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(f"Python {sys.version.split()[0]} ({sys.executable})")
    import_cost(runs)
    connections(200)
