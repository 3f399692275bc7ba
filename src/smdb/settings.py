"""One settings model for the library and the CLI (pydantic-settings): arguments beat the environment (``SMDB_*``),
which beats a TOML file (the ``[smdb]`` table of ``SMDB_CONFIG`` or the file given).

Before, the environment and the config file existed only in the CLI; now an integration script gets the same with
:meth:`smdb.client.SmdbClient.from_env` (or :meth:`SmdbSettings.load` and ``SmdbClient.from_settings``), and the CLI
is one more caller. Unknown keys in the file are refused (a typo must not silently fall back to a default), and the
certificate's password is taken only from ``SMDB_CERT_PASSWORD``: never from a file, never logged (``SecretStr``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from smdb.errors import ConfigurationError, UnsafeFile
from smdb.files import NOT_WRITABLE_BY_OTHERS, os_fejl, read_capped
from smdb.soap.options import Environment, TransportOptions

#: Where a setting comes from, for messages: the CLI flag, the environment variable.
_FLAG = {
    "env": "--env",
    "endpoint": "--endpoint",
    "cert": "--cert",
    "key": "--key",
    "server_cert": "--server-cert",
    "kommunekode": "--kommune",
    "api_version": "--api-version",
    "auth": "--auth",
    "sts_url": "--sts-url",
    "sts_audience": "--sts-audience",
    "sts_cert": "--sts-cert",
    "sts_entity_id": "--sts-entity-id",
    "deadline": "--deadline",
    "strict": "--strict",
    "allow_insecure_http": "--allow-insecure-http",
    "require_signature_confirmation": "--require-sigconf",
    "answer_skew": "--answer-skew",
}


class _TomlTable(PydanticBaseSettingsSource):
    """The ``[smdb]`` table of a TOML file, the lowest-priority source; unknown keys and passwords are refused."""

    def __init__(self, settings_cls: type[BaseSettings], path: str | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False  # __call__ reads the whole table at once

    def __call__(self) -> dict[str, Any]:
        if not self.path:
            return {}
        try:
            loaded = tomllib.loads(read_capped(self.path, 1024 * 1024, NOT_WRITABLE_BY_OTHERS).decode("utf-8-sig"))
        except UnsafeFile as exc:
            raise ConfigurationError(f"konfigurationsfilen afvises: {exc}") from None
        except OSError as exc:
            raise ConfigurationError(f"konfigurationsfilen {self.path} kan ikke læses: {os_fejl(exc)}") from None
        except UnicodeDecodeError:
            raise ConfigurationError(f"konfigurationsfilen {self.path} er ikke UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            where = re.search(r"line (\d+), column (\d+)", str(exc))
            at = f" (linje {where.group(1)}, kolonne {where.group(2)})" if where else ""
            raise ConfigurationError(f"konfigurationsfilen {self.path} er ikke gyldig TOML{at}") from None
        table = loaded.get("smdb", {})
        if isinstance(table, dict) and "cert_password" in table:
            raise ConfigurationError(
                f"konfigurationsfilen {self.path} må ikke indeholde adgangskoden: sæt miljøvariablen SMDB_CERT_PASSWORD"
            )
        known = set(SmdbSettings.model_fields) - {"cert_password"}
        unknown = sorted(set(loaded) - {"smdb"}) + (sorted(set(table) - known) if isinstance(table, dict) else [])
        nested = [
            f"kommuner.{kode}.{k}"
            for kode, sub in (table.get("kommuner", {}) if isinstance(table, dict) else {}).items()
            if isinstance(sub, dict)
            for k in sub
        ]
        secret = [k for k in [*unknown, *nested] if "pass" in k.lower() or "adgangskode" in k.lower()]
        if secret:
            raise ConfigurationError(
                f"konfigurationsfilen {self.path} må ikke indeholde adgangskoder ({', '.join(secret)}): sæt "
                "miljøvariablen SMDB_CERT_PASSWORD (eller SMDB_CERT_PASSWORD_KODE for en kommunes certifikat)"
            )
        if not isinstance(table, dict) or unknown:
            raise ConfigurationError(
                f"konfigurationsfilen {self.path} har ukendte nøgler: {', '.join(unknown) or 'smdb'}; "
                f"tilladt i tabellen [smdb]: {', '.join(sorted(known))}"
            )
        return table


class KommuneCertifikat(BaseModel):
    """One municipality's own certificate (``[smdb.kommuner.KODE]``); its password only from
    ``SMDB_CERT_PASSWORD_KODE``."""

    model_config = ConfigDict(extra="forbid")

    cert: Path
    key: Path | None = None


class SmdbSettings(BaseSettings):
    """Everything needed to talk to SMDB; each field is also ``SMDB_<NAME>`` and a key of the config file."""

    model_config = SettingsConfigDict(env_prefix="SMDB_", extra="forbid", case_sensitive=False)

    #: local (a simulator at ``endpoint``), preprod or prod.
    env: Literal["local", "preprod", "prod"] = "preprod"
    endpoint: str | None = None
    #: The organisation's certificate: PKCS#12 (.p12/.pfx) or PEM (with ``key`` for a separate key file).
    cert: Path | None = None
    key: Path | None = None
    #: Only from ``SMDB_CERT_PASSWORD`` (or an argument): never from a file.
    cert_password: SecretStr | None = None
    #: DST's certificate (PEM): then every answer and fault must be signed by it.
    server_cert: Path | None = None
    kommunekode: int | None = None
    api_version: Literal["v1", "v0"] = "v1"
    auth: Literal["certificate", "sts"] = "certificate"
    sts_url: str | None = None
    sts_audience: str | None = None
    sts_cert: Path | None = None
    sts_entity_id: str | None = None
    #: The longest one call may take, retries included (seconds).
    deadline: float = Field(default=120.0, gt=0, le=3600)
    strict: bool = False
    allow_insecure_http: bool = False
    #: Many municipalities, each with its own certificate: kommunekode -> its certificate (config file only).
    kommuner: dict[int, KommuneCertifikat] = Field(default_factory=dict)
    #: Refuse signed answers without a SignatureConfirmation of their request (docs/security.md).
    require_signature_confirmation: bool = False
    #: Seconds a signed answer's Created may lie before its request (clock difference); an older one is a replay.
    answer_skew: float = Field(default=10.0, ge=0, le=300)
    #: The config file of a load (set on the subclass :meth:`load` makes; not a setting).
    config_path: ClassVar[str | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments over ``SMDB_*`` over the config file's ``[smdb]`` table (no .env files, no secrets dir)."""
        return init_settings, env_settings, _TomlTable(settings_cls, getattr(settings_cls, "config_path", None))

    @classmethod
    def load(cls, config_file: str | os.PathLike[str] | None = None, **arguments: Any) -> SmdbSettings:
        """Arguments (None ones ignored) over ``SMDB_*`` over the ``[smdb]`` table of ``config_file`` (default
        ``$SMDB_CONFIG``). A wrong value raises ConfigurationError naming the setting in Danish.

        :raises ConfigurationError: an unknown key, a password in the file, invalid TOML, a file others can write,
            or a value out of range (named with its flag and variable)."""
        path = config_file if config_file is not None else os.environ.get("SMDB_CONFIG")
        # the file is a source of this load only: a subclass carries it to settings_customise_sources (no global)
        bound = type(cls.__name__, (cls,), {"config_path": str(path) if path else None})
        try:
            settings: SmdbSettings = bound(**{k: v for k, v in arguments.items() if v is not None})
        except ValidationError as exc:
            raise ConfigurationError(_danish(exc)) from None
        return settings

    def kommune_arguments(self, **overrides: Any) -> dict[int, dict[str, Any]]:
        """:meth:`client_arguments` for each municipality of ``[smdb.kommuner.KODE]``, each with that municipality's
        own certificate (its password from ``SMDB_CERT_PASSWORD_KODE``); see ``SmdbClient.per_kommune``."""
        return {
            kode: self.client_arguments(**{**overrides, "credentials": self._kommune_credentials(kode)})
            for kode in sorted(self.kommuner)
        }

    def _kommune_credentials(self, kode: int) -> Any:
        """The municipality's certificate, loaded and checked; its password only from ``SMDB_CERT_PASSWORD_KODE``."""
        from smdb import auth as auth_files
        from smdb.errors import CertificateError

        k = self.kommuner[kode]
        variable = f"SMDB_CERT_PASSWORD_{kode}"
        try:
            creds = auth_files.load(k.cert, os.environ.get(variable), k.key)
            creds.check_validity()
        except CertificateError as exc:
            raise ConfigurationError(f"[smdb.kommuner.{kode}]: {exc} (adgangskoden fra {variable})") from None
        return creds

    def client_arguments(self, **overrides: Any) -> dict[str, Any]:
        """The arguments of :class:`~smdb.client.SmdbClient` for these settings (certificates loaded and checked),
        with ``overrides`` (``today``, ``clock``, ``session``, or any transport option) over them; see
        ``SmdbClient.from_settings``. The settings know nothing of the client, so the client may know them.

        :raises ConfigurationError: a setting that cannot work, named with its flag and variable."""
        from cryptography import x509

        from smdb import auth as auth_files
        from smdb.auth.sts import StsConfig
        from smdb.errors import CertificateError

        if self.env == "local" and not self.endpoint:
            raise ConfigurationError("--env local kræver --endpoint (eller SMDB_ENDPOINT), fx http://127.0.0.1:8765")
        creds = overrides.pop("credentials", None)
        if creds is not None:
            pass
        elif self.cert is not None:
            password = self.cert_password.get_secret_value() if self.cert_password else None
            try:
                creds = auth_files.load(self.cert, password, self.key)
                creds.check_validity()
            except CertificateError as exc:
                raise ConfigurationError(str(exc)) from None
        elif self.env != "local" and self.kommuner:
            creds = self._kommune_credentials(min(self.kommuner))  # the default client: the first municipality's
        elif self.env != "local":
            raise ConfigurationError("angiv organisationens certifikat med --cert eller SMDB_CERT")
        server_certs = _certificates(self.server_cert, "DST's certifikat") if self.server_cert else []
        sts = None
        if self.auth == "sts":
            if creds is None:
                raise ConfigurationError("--auth sts kræver organisationscertifikatet (--cert eller SMDB_CERT)")
            if self.env == "local" and not (self.sts_url and self.sts_audience):
                raise ConfigurationError(
                    "--env local --auth sts kræver --sts-url og --sts-audience (se smdb sim serve --auth sts)"
                )
            base = StsConfig.for_environment(prod=self.env == "prod")
            sts_certs: list[x509.Certificate] = (
                _certificates(self.sts_cert, "STS'ens certifikat") if self.sts_cert else []
            )
            sts = StsConfig(
                endpoint=self.sts_url or base.endpoint,
                audience=self.sts_audience or base.audience,
                entity_id=self.sts_entity_id or base.entity_id,
                certificates=tuple(sts_certs),
            )
        # a setting named as a transport option is that option (adding one: a field here and in TransportOptions)
        same = {f.name for f in dataclasses.fields(TransportOptions)} & set(type(self).model_fields)
        options = TransportOptions(
            **{name: getattr(self, name) for name in same - {"answer_skew"}},
            answer_skew=timedelta(seconds=self.answer_skew),
            sts=sts,
            server_certificates=tuple(server_certs),
        )
        environment = Environment.PROD if self.env == "prod" else Environment.PREPROD
        # a transport option among the overrides is folded into ``options`` by the client, as any keyword is
        return {
            "environment": environment,
            "credentials": creds,
            "base_url": self.endpoint,
            "options": options,
            **overrides,
        }


def _certificates(path: Path, what: str) -> list[Any]:
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(read_capped(path, 1024 * 1024)))
    except (OSError, ValueError):
        raise ConfigurationError(f"kan ikke læse {what} {path}") from None


def _danish(exc: ValidationError) -> str:
    """The first problem, naming the setting by flag and variable, in Danish (pydantic's text is English)."""
    err = exc.errors(include_url=False)[0]
    name = str(err["loc"][0]) if err["loc"] else "?"
    where = f"{_FLAG.get(name, name)} (SMDB_{name.upper()})"
    typ = err["type"]
    if typ == "literal_error":
        allowed = str((err.get("ctx") or {}).get("expected", "")).replace(" or ", " eller ")
        return f"{where} skal være {allowed} (fik {err.get('input')!r})"
    if typ in ("greater_than", "less_than_equal", "greater_than_equal", "float_parsing", "int_parsing"):
        return f"{where} har en ugyldig værdi ({err.get('input')!r}); se smdb --help"
    if typ == "extra_forbidden":
        return f"ukendt indstilling {name}"
    return f"{where} har en ugyldig værdi ({err.get('input')!r})"
