"""Azurite (the Azure Storage emulator, npm package `azurite`) on a free loopback port, for abfss:// tests.

Azurite 3.37.0 is the first release that honours the List Blobs `startFrom` parameter (an inclusive lower
bound, as in Azure Storage); delta-rs (through object_store) sends it when it lists `_delta_log` for new
commits, and an older Azurite hands back the whole log, so the third commit of a table fails with
"Invalid table version". An older install in .tools is therefore upgraded.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO

ACCOUNT = "devstoreaccount1"
# Azurite's published development-account key (not a secret: it is the same in every emulator)
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
TOOLS = REPO / ".tools"
MIN_VERSION = (3, 37, 0)


@dataclass(frozen=True)
class Azurite:
    endpoint: str  # blob endpoint incl. the account, e.g. http://127.0.0.1:PORT/devstoreaccount1

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    def create_container(self, name: str) -> None:
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string(self.connection_string).create_container(name)


def _installed_version() -> tuple[int, ...]:
    manifest = TOOLS / "node_modules" / "azurite" / "package.json"
    if not manifest.exists():
        return ()
    version = str(json.loads(manifest.read_text()).get("version", ""))
    return tuple(int(p) for p in version.split("-")[0].split(".") if p.isdigit())


def azurite_binary() -> Path:
    binary = TOOLS / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists() or _installed_version() < MIN_VERSION:
        # `make test` installs it first; a bare pytest run (or a stale install) is brought up to date here
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install azurite (npm install --prefix .tools 'azurite@>=3.37.0')")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(TOOLS),
                "azurite@>=" + ".".join(map(str, MIN_VERSION)),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ],
            check=True,
            timeout=600,
        )
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
