"""The agent's configuration: one object holding every setting the command line and the localhost API share.

Each setting comes from the first of these that gives it (DESIGN.md section 3, README "Configuration"):

1. an option of the command (``--store``, ``--revocation``, ``--offline`` ...), given to :func:`load_config` as
   ``options``;
2. an environment variable (``SIGNAGENT_TRUST_DIR`` ... see :data:`SETTINGS`);
3. the configuration file: TOML, ``$SIGNAGENT_CONFIG`` or ``config.toml`` in platformdirs' user configuration
   directory for signagent (a missing default file is no error, a missing ``$SIGNAGENT_CONFIG`` file is);
4. the built-in default.

:class:`Config` remembers where each value came from, for ``signagent config show``. An unknown key or a value of
the wrong type in the file, or an unreadable value in the environment, is a :class:`ConfigError` naming the file
(or variable) and the key: a typo must not silently fall back to a default.

``SIGNAGENT_PURE`` (the pure-Python GOST backend) is read by :mod:`signagent.gost._backend` when it is imported,
before any configuration exists; it is reported here for diagnostics only and cannot be set in the file.

Exports: Config, ConfigError, Setting, SETTINGS, CONFIG_ENV, default_config_path, load_config.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from signagent.errors import FileAccessError, UsageError, error_of_kind
from signagent.fileio import read_capped

from .choices import REVOCATION_MODES

__all__ = [
    "CONFIG_ENV",
    "SETTINGS",
    "Config",
    "ConfigError",
    "Setting",
    "default_config_path",
    "load_config",
]

#: The variable that names the configuration file.
CONFIG_ENV = "SIGNAGENT_CONFIG"
_MAX_CONFIG_FILE = 1 << 20  # a configuration is a few lines; refuse to read a mistaken huge file

Source = Literal["default", "file", "env", "option"]


class ConfigError(UsageError):
    """The configuration file or a configuration variable holds something the agent cannot use."""

    code = "config_invalid"


def _platform_dir(kind: str, *tail: str) -> Path:
    # the same calls the lower layers make for their own defaults (trust.store, tokens.softkeys, trust.fetching)
    import platformdirs

    base = {"data": lambda: platformdirs.user_data_dir("signagent"),
            "cache": lambda: platformdirs.user_cache_dir("signagent", appauthor=False),
            "log": lambda: platformdirs.user_log_dir("signagent", appauthor=False),
            "config": lambda: platformdirs.user_config_dir("signagent", appauthor=False)}[kind]()
    return Path(base, *tail)


# ------------------------------------------------------------------------------------------ value conversion
# Each converter takes a value from the file (already typed by TOML) or the environment (text) and returns the
# setting's value, or raises ValueError with a short English/Russian phrase saying what was expected.

class _Expected(ValueError):
    def __init__(self, en: str, ru: str) -> None:
        super().__init__(en)
        self.en, self.ru = en, ru


def _path(value: object, from_env: bool) -> Path:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise _Expected("a non-empty path (a string)", "непустой путь (строка)")
    return Path(value).expanduser()


def _paths(value: object, from_env: bool) -> tuple[str, ...]:
    if from_env:  # os.pathsep-separated, as SIGNAGENT_PKCS11_MODULES has always been
        assert isinstance(value, str)
        return tuple(p for p in value.split(os.pathsep) if p.strip())
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() and "\0" not in p for p in value):
        raise _Expected("a list of paths (strings)", "список путей (строк)")
    return tuple(str(Path(p).expanduser()) for p in value)


def _revocation(value: object, from_env: bool) -> str:
    if value not in REVOCATION_MODES:
        raise _Expected("one of soft, hard, off", "одно из значений soft, hard, off")
    return str(value)


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _bool(value: object, from_env: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_env and isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise _Expected("true or false", "true или false")


def _backend_flag(value: object, from_env: bool) -> bool:
    # exactly the test signagent.gost._backend applies to SIGNAGENT_PURE
    return str(value) not in ("", "0")


def _seconds(value: object, from_env: bool) -> float:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str) or (
                isinstance(value, str) and not from_env):
            raise ValueError
        seconds = float(value)
    except ValueError:
        raise _Expected("a number of seconds", "число секунд") from None
    if not math.isfinite(seconds) or not 0 < seconds <= 600:
        raise _Expected("a number of seconds above 0, at most 600", "число секунд больше 0 и не больше 600")
    return seconds


def _host(value: object, from_env: bool) -> str:
    if not isinstance(value, str) or not value.strip() or any(c.isspace() or c in "/\0" for c in value):
        raise _Expected("a host name or address", "имя или адрес узла")
    return value


def _port(value: object, from_env: bool) -> int:
    try:
        if isinstance(value, bool) or not isinstance(value, int | str) or (isinstance(value, str) and not from_env):
            raise ValueError
        port = int(value)
    except ValueError:
        raise _Expected("a port number", "номер порта") from None
    if not 1 <= port <= 65535:
        raise _Expected("a port number from 1 to 65535", "номер порта от 1 до 65535")
    return port


@dataclass(frozen=True)
class Setting:
    """One setting: its name (the file's key and the :class:`Config` attribute), its environment variable, how a
    value is read, its default, whether the file may set it, and what it is for."""

    name: str
    env: str
    convert: Callable[[object, bool], Any]
    default: Callable[[], Any]
    help: str
    in_file: bool = True


#: Every setting, in the order ``signagent config show`` lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting("trust_dir", "SIGNAGENT_TRUST_DIR", _path, lambda: _platform_dir("data", "trust"),
            "trust store: trusted roots, intermediates, CRLs"),
    Setting("pkcs11_modules", "SIGNAGENT_PKCS11_MODULES", _paths, tuple,
            "PKCS#11 modules to load besides the vendors' usual paths"),
    Setting("keys_dir", "SIGNAGENT_KEYS_DIR", _path, lambda: _platform_dir("data", "keys"),
            "software key directory"),
    Setting("cache_dir", "SIGNAGENT_CACHE_DIR", _path, lambda: _platform_dir("cache", "fetch"),
            "downloaded CRLs, OCSP answers and CA certificates"),
    Setting("log_dir", "SIGNAGENT_LOG_DIR", _path, lambda: _platform_dir("log"), "internal-error logs"),
    Setting("revocation", "SIGNAGENT_REVOCATION", _revocation, lambda: "soft",
            "revocation checking of `cert validate` and `verify`: soft, hard or off"),
    Setting("offline", "SIGNAGENT_OFFLINE", _bool, lambda: False,
            "never use the network for revocation data or missing CA certificates"),
    Setting("revocation_timeout", "SIGNAGENT_REVOCATION_TIMEOUT", _seconds, lambda: 5.0,
            "seconds to wait for a CRL, OCSP answer or CA certificate"),
    Setting("download_timeout", "SIGNAGENT_DOWNLOAD_TIMEOUT", _seconds, lambda: 15.0,
            "seconds to wait for a root certificate (`trust update`)"),
    Setting("api_host", "SIGNAGENT_API_HOST", _host, lambda: "127.0.0.1", "address the localhost API binds"),
    Setting("api_port", "SIGNAGENT_API_PORT", _port, lambda: 36985, "port of the localhost API"),
    Setting("pure_backend", "SIGNAGENT_PURE", _backend_flag, lambda: False,
            "pure-Python GOST arithmetic instead of the C core (read when signagent.gost is imported; "
            "environment only)", in_file=False),
)
_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Config:
    """The effective configuration. ``sources`` says where each setting came from (default, file, env, option);
    ``file`` is the configuration file read, None when there was none."""

    trust_dir: Path
    pkcs11_modules: tuple[str, ...]
    keys_dir: Path
    cache_dir: Path
    log_dir: Path
    revocation: str
    offline: bool
    revocation_timeout: float
    download_timeout: float
    api_host: str
    api_port: int
    pure_backend: bool
    file: Path | None = None
    sources: Mapping[str, Source] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """``{"file": path or None, "settings": {name: {"value", "source", "env"}}}``, JSON-ready."""
        settings: dict[str, object] = {}
        for s in SETTINGS:
            value = getattr(self, s.name)
            shown = [str(v) for v in value] if isinstance(value, tuple) else (
                str(value) if isinstance(value, Path) else value)
            settings[s.name] = {"value": shown, "source": self.sources.get(s.name, "default"), "env": s.env}
        return {"file": None if self.file is None else str(self.file), "settings": settings}


def default_config_path() -> Path:
    """``config.toml`` in platformdirs' user configuration directory for signagent."""
    return _platform_dir("config", "config.toml")


def _read_file(path: Path, required: bool) -> dict[str, Any] | None:
    import tomllib

    try:  # fileio: a FIFO or device is refused without blocking; too large -> input_too_large (a ConfigError too)
        data = read_capped(path, _MAX_CONFIG_FILE, "configuration", ConfigError)
    except FileAccessError as exc:
        missing = exc.details.get("situation") == "missing"
        if missing and not required:
            return None
        # The code every command gives this situation (file_access, not_a_regular_file), still a ConfigError.
        where = f" (${CONFIG_ENV})" if missing else ""
        raise error_of_kind(type(exc), ConfigError)(f"configuration file {exc.message}{where}",
                                                    message_ru=f"файл конфигурации {exc.message_ru}{where}",
                                                    **exc.details) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"configuration file {path}: not valid TOML: {exc}",
                          message_ru=f"файл конфигурации {path}: ошибка TOML: {exc}") from None


def _from_file(path: Path, table: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in table.items():
        setting = _BY_NAME.get(key)
        if setting is None or not setting.in_file:
            known = ", ".join(s.name for s in SETTINGS if s.in_file)
            raise ConfigError(f"configuration file {path}: unknown key {key!r} (known: {known})",
                              message_ru=f"файл конфигурации {path}: неизвестный ключ {key!r} (известны: {known})",
                              file=path, key=key)
        try:
            values[key] = setting.convert(raw, False)
        except _Expected as exc:
            raise ConfigError(f"configuration file {path}: {key}: expected {exc.en}",
                              message_ru=f"файл конфигурации {path}: {key}: нужно {exc.ru}",
                              file=path, key=key) from None
    return values


def load_config(options: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
                path: str | os.PathLike[str] | None = None) -> Config:
    """The effective configuration: ``options`` (setting name -> value; None means "not given") over the
    environment (``environ``, default ``os.environ``) over the file (``path``, else ``$SIGNAGENT_CONFIG``, else
    :func:`default_config_path`) over the defaults. Raises :class:`ConfigError` for an unusable file or value.
    """
    env = os.environ if environ is None else environ
    named = path if path is not None else env.get(CONFIG_ENV) or None
    file = Path(named).expanduser() if named is not None else default_config_path()
    table = _read_file(file, required=named is not None)
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    if table is not None:
        values.update(_from_file(file, table))
        sources.update(dict.fromkeys(values, "file"))
    for setting in SETTINGS:
        text = env.get(setting.env)
        if text is None or (text == "" and setting.convert not in (_bool, _backend_flag)):
            continue  # an empty variable is unset, as the agent always treated SIGNAGENT_TRUST_DIR=""
        try:
            values[setting.name] = setting.convert(text, True)
        except _Expected as exc:
            raise ConfigError(f"environment variable {setting.env}: expected {exc.en}",
                              message_ru=f"переменная окружения {setting.env}: нужно {exc.ru}",
                              key=setting.env) from None
        sources[setting.name] = "env"
    for name, value in (options or {}).items():
        if name not in _BY_NAME:
            raise ValueError(f"unknown setting {name!r}")  # a programming error, not user input
        if value is None:
            continue
        convert = _BY_NAME[name].convert  # options arrive typed by click; paths become Path objects
        values[name] = Path(value).expanduser() if convert is _path else (
            tuple(map(str, value)) if convert is _paths else value)
        sources[name] = "option"
    for setting in SETTINGS:
        if setting.name not in values:
            values[setting.name] = setting.default()
    return Config(**values, file=file if table is not None else None, sources=sources)
