"""Spoken Vietnamese prompts, made at setup with Debian's espeak-ng.

``hailong kiosk voice`` writes ``prompt.wav`` (the rating question), ``reasons.wav``
(the reasons screen) and ``thanks.wav`` into ``[sound] voice_dir``. A file already
there is kept (the commune may have recorded its own, which sound far better than a
speech synthesiser) unless ``--force`` is given. Elderly and low-literacy citizens get a
voice even where nobody recorded one (issue 9).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from hailong.errors import HailongError

log = logging.getLogger(__name__)

# What each prompt says: plain words, the polite "ông bà" the screens use.
TEXTS = {
    "prompt": "Xin mời ông bà đánh giá mức độ hài lòng. Hãy chạm vào một khuôn mặt, "
              "hoặc bấm một nút.",
    "reasons": "Điều gì chưa tốt? Ông bà chọn một hoặc nhiều lý do, rồi bấm Xong.",
    "thanks": "Xin cảm ơn ông bà đã đánh giá.",
}
VOICE = "vi"   # espeak-ng's Vietnamese (Northern) voice
SPEED = 140    # words per minute: slower than espeak's 175, for elderly listeners


class VoiceError(HailongError, RuntimeError):
    """The prompts cannot be made here."""


def make_voice(folder: Path, *, force: bool = False, espeak: str | None = None) -> dict[str, str]:
    """Write the missing (or, with ``force``, all) prompts; {name: 'made' | 'kept'}."""
    espeak = espeak or shutil.which("espeak-ng")
    if not espeak:
        raise VoiceError("espeak-ng is not installed: apt-get install espeak-ng "
                         "(or put recorded prompt.wav, reasons.wav, thanks.wav in the "
                         "voice folder)")
    folder.mkdir(parents=True, exist_ok=True)
    done = {}
    for name, text in TEXTS.items():
        path = folder / f"{name}.wav"
        if path.exists() and not force:
            done[name] = "kept"
            continue
        tmp = path.with_suffix(".tmp.wav")
        try:
            subprocess.run([espeak, "-v", VOICE, "-s", str(SPEED), "-w", str(tmp), text],
                           check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as e:
            tmp.unlink(missing_ok=True)
            raise VoiceError(f"espeak-ng failed for {name}: {e}") from None
        tmp.replace(path)  # never a half-written prompt under the real name
        done[name] = "made"
        log.info("voice prompt %s written", path)
    return done
