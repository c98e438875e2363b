"""Config as one declarative table (house style rule 6, after datasette's ``Setting``).

Each part declares its settings as :class:`Setting` rows; :func:`load` reads a TOML
file against them, fills defaults, checks types and ranges, and returns a frozen
:class:`Config`. A bad file raises :class:`ConfigError` with one readable line.

Secrets (``secret=True``) may also come from ``<name>_file`` in the same section (a
file holding only the secret, e.g. one systemd's ``LoadCredential`` provides) or
from the environment as ``HAILONG_<SECTION>_<NAME>``, so they need not sit in the
config file; :meth:`Config.redacted` masks them for logs.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hailong.errors import ConfigError

REQUIRED = object()


@dataclasses.dataclass(frozen=True)
class Setting:
    section: str
    name: str
    type: type
    default: Any = REQUIRED
    help: str = ""
    secret: bool = False
    choices: tuple = ()
    minimum: float | None = None
    maximum: float | None = None

    @property
    def key(self) -> str:
        return f"[{self.section}] {self.name}"


class Section(Mapping):
    """Read-only view of one config section, with attribute access."""

    def __init__(self, name: str, values: dict[str, Any]):
        self._name = name
        self._values = MappingProxyType(values)

    def __getattr__(self, item: str) -> Any:
        try:
            return self._values[item]
        except KeyError:
            raise AttributeError(f"[{self._name}] has no setting {item!r}") from None

    def __getitem__(self, item: str) -> Any:
        return self._values[item]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Config:
    """A loaded config: ``config.broker.host``; ``config.path`` is the file it came from."""

    def __init__(self, path: Path | None, settings: Iterable[Setting], values: dict):
        self.path = path
        self.settings = tuple(settings)
        self._sections = {name: Section(name, vals) for name, vals in values.items()}

    def __getattr__(self, item: str) -> Section:
        try:
            return self._sections[item]
        except KeyError:
            raise AttributeError(f"config has no section [{item}]") from None

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: dict(section) for name, section in self._sections.items()}

    def redacted(self) -> dict[str, dict[str, Any]]:
        out = self.as_dict()
        for s in self.settings:
            if s.secret and out[s.section].get(s.name):
                out[s.section][s.name] = "***"
        return out


def _coerce(setting: Setting, value: Any, where: str) -> Any:
    def bad(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {setting.key}: {problem}")

    kind = setting.type
    if kind is Path:
        if not isinstance(value, str) or not value:
            raise bad(f"expected a path, got {value!r}")
        return value  # resolved against the file's folder by load()
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is list:
        if not isinstance(value, list):
            raise bad(f"expected a list, got {value!r}")
        return tuple(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise bad(f"expected {kind.__name__}, got {value!r}")
    if setting.choices and value not in setting.choices:
        raise bad(f"{value!r} is not one of {', '.join(map(str, setting.choices))}")
    if setting.minimum is not None and value < setting.minimum:
        raise bad(f"{value!r} is below the minimum {setting.minimum}")
    if setting.maximum is not None and value > setting.maximum:
        raise bad(f"{value!r} is above the maximum {setting.maximum}")
    return value


def load(path: str | os.PathLike | None, settings: Iterable[Setting],
         environ: Mapping[str, str] | None = None, overrides: Mapping | None = None) -> Config:
    """Read ``path`` (TOML) against ``settings``; ``None`` means all defaults."""
    settings = tuple(settings)
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    where = str(path) if path else "<defaults>"
    base = Path(path).resolve().parent if path else Path.cwd()
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{where}: no such config file") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"{where}: cannot read: {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{where}: not valid TOML: {e}") from None
    for section, table in (overrides or {}).items():
        raw.setdefault(section, {}).update(table)

    known: dict[str, dict[str, Setting]] = {}
    for s in settings:
        known.setdefault(s.section, {})[s.name] = s
    for section, table in raw.items():
        if section not in known:
            raise ConfigError(f"{where}: unknown section [{section}]")
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{section}] must be a table")
        for name in table:
            secret_file = name.endswith("_file") and known[section].get(name[:-5])
            if name not in known[section] and not (secret_file and secret_file.secret):
                raise ConfigError(f"{where}: [{section}] {name}: unknown key")

    values: dict[str, dict[str, Any]] = {section: {} for section in known}
    for s in settings:
        table = raw.get(s.section, {})
        env_name = f"HAILONG_{s.section}_{s.name}".upper()
        if s.name in table:
            value = _coerce(s, table[s.name], where)
        elif s.secret and f"{s.name}_file" in table:
            secret_path = base / table[f"{s.name}_file"]
            try:
                value = secret_path.read_text(encoding="utf-8").strip()
            except OSError as e:
                raise ConfigError(f"{where}: {s.key}_file: cannot read {secret_path}: "
                                  f"{e.strerror}") from None
        elif s.secret and env_name in environ:
            value = environ[env_name]
        elif s.default is REQUIRED:
            raise ConfigError(f"{where}: {s.key}: required but missing")
        else:
            value = s.default
        if s.type is Path and isinstance(value, str) and value:
            value = (base / value).resolve() if not os.path.isabs(value) else Path(value)
        values[s.section][s.name] = value
    return Config(Path(path) if path else None, settings, values)


def render_reference(settings: Iterable[Setting]) -> str:
    """Markdown table of every setting, for docs (a test keeps docs/ in step)."""
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for s in settings:
        default = "required" if s.default is REQUIRED else repr(s.default)
        if s.type is list and isinstance(s.default, tuple):
            default = repr(list(s.default))
        lines.append(f"| `[{s.section}] {s.name}` | {s.type.__name__} | {default} | {s.help} |")
    return "\n".join(lines)
