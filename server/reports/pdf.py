"""DOCX -> PDF with LibreOffice headless (Debian's ``libreoffice-writer-nogui``), so
a letter or a report can be sent or printed as it will look on paper.

LibreOffice takes seconds to start (about 3 s on a 2-core machine), so several
files are converted in one run (``convert_many``), and runs are serialised: two
``soffice`` processes sharing a user profile would fight over it. Each run gets a
private profile folder, so a dashboard user never blocks on a profile left locked
by a crashed run.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from hailong.errors import HailongError

log = logging.getLogger(__name__)

PDF_MIME = "application/pdf"
TIMEOUT = 180.0  # seconds for one soffice run (a cold start on a busy Pi is slow)
_lock = threading.Lock()


class PdfError(HailongError, RuntimeError):
    """LibreOffice is missing or could not convert a document."""


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise PdfError("LibreOffice (soffice) is not installed: run `make setup` "
                       "(Debian package libreoffice-writer-nogui)")
    return found


def convert_many(docs: dict[str, bytes]) -> dict[str, bytes]:
    """{name: docx bytes} -> {name: pdf bytes}, in one LibreOffice run."""
    if not docs:
        return {}
    exe = soffice()
    with _lock, tempfile.TemporaryDirectory(prefix="hailong-pdf-") as tmp:
        folder = Path(tmp)
        paths = []
        for i, (name, data) in enumerate(docs.items()):
            path = folder / f"d{i}.docx"  # our own file names: nothing from the user
            path.write_bytes(data)
            paths.append((name, path))
        cmd = [exe, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export",
               "--outdir", str(folder / "out"), *(str(p) for _, p in paths)]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                                 cwd=folder)
        except subprocess.TimeoutExpired:
            raise PdfError(f"LibreOffice took more than {TIMEOUT:.0f} s") from None
        out = {}
        for name, path in paths:
            pdf = folder / "out" / (path.stem + ".pdf")
            if not pdf.exists():
                log.error("soffice failed (%s): %s %s", run.returncode, run.stdout, run.stderr)
                raise PdfError(f"LibreOffice did not convert {name}: "
                               f"{(run.stderr or run.stdout).strip()[:200]}")
            out[name] = pdf.read_bytes()
        return out


def convert(docx: bytes) -> bytes:
    return convert_many({"doc": docx})["doc"]
