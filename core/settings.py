"""Configuration, read from the environment once into one `Settings` object.

The variable names are part of the public contract (see API.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEV_SECRET_KEY = "sitedesk-development-key-do-not-use-in-production"


class ConfigurationError(Exception):
    """A setting has a value the service cannot run with."""


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def _int(value: str, name: str, minimum: int = 1) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}")
    return number


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_keys: tuple[str, ...]
    files_dir: Path
    smtp_url: str | None
    max_upload_mb: int
    public_url: str
    graphiql: bool
    cors_origins: tuple[str, ...]
    env: str
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    download_url_minutes: int = 15
    max_body_mb: int = 2
    max_files_per_request: int = 10
    # Query limits (schema/limits.py) and login throttling (resolvers/accounts.py).
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_query_cost: int = 50000
    max_mutations: int = 5
    introspection: bool = True
    login_max_failures: int = 5
    login_max_failures_per_address: int = 30
    login_window_minutes: int = 15
    mail_from: str = "Sitedesk <no-reply@sitedesk.invalid>"
    mail_sender: bool = True
    # Webhooks (webhooks/addresses.py): plain http and private addresses are for tests and on-premise only.
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    webhook_sender: bool = True
    # API tokens and impersonation (permissions/api_tokens.py).
    token_requests_per_minute: int = 600
    impersonation_minutes: int = 15
    # Operations (README "Running in production"): where files live, the proxies whose forwarded
    # headers count, the metrics token and the log format.
    files_url: str = ""
    s3_endpoint_url: str | None = None
    files_redirect: bool = False
    trusted_proxies: tuple[str, ...] = ()
    metrics_token: str | None = None
    log_format: str = "text"

    @property
    def files_location(self) -> str:
        """`file:///abs/dir` or `s3://bucket/prefix`: the files backend (files/backends.py)."""
        return self.files_url or f"file://{self.files_dir.resolve()}"

    # Live updates (subscriptions over WebSocket; server/live.py, live/hub.py).
    live_max_subscriptions: int = 20
    live_max_connections: int = 10
    live_queue_size: int = 100
    live_init_timeout_seconds: int = 5
    live_recheck_seconds: int = 5
    # The HTTP pipeline (server/persisted.py, server/idempotency.py).
    persisted_queries: bool = True
    trusted_documents: Path | None = None
    # The email channel (issue 27; resolvers/inbound_mail.py, server/inbound_mail.py): the domain of
    # reply and intake addresses (unset: off), the receiver's host:port, the per-sender hourly limit.
    inbound_domain: str | None = None
    inbound_smtp: str | None = None
    inbound_per_sender_per_hour: int = 60
    # Persisted-query registration (server/persisted.py): the table's cap (least recently used
    # out first), rows unused this long are deleted, anonymous registrations per address and hour.
    persisted_queries_max: int = 10000
    persisted_queries_unused_days: int = 30
    persisted_queries_anonymous: bool = True
    persisted_queries_per_address: int = 20

    @property
    def secret_key(self) -> str:
        """The key new tokens and URLs are signed with (the newest)."""
        return self.secret_keys[0]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * 1024 * 1024


# (Settings field, environment variable, default) for the whole-number limits.
LIMIT_VARIABLES = (
    ("max_query_depth", "SITEDESK_MAX_QUERY_DEPTH", 12),
    ("max_aliases", "SITEDESK_MAX_ALIASES", 30),
    ("max_tokens", "SITEDESK_MAX_TOKENS", 2000),
    ("max_query_cost", "SITEDESK_MAX_QUERY_COST", 50000),
    ("max_mutations", "SITEDESK_MAX_MUTATIONS", 5),
    ("login_max_failures", "SITEDESK_LOGIN_MAX_FAILURES", 5),
    ("login_max_failures_per_address", "SITEDESK_LOGIN_MAX_FAILURES_PER_ADDRESS", 30),
    ("login_window_minutes", "SITEDESK_LOGIN_WINDOW_MINUTES", 15),
    ("token_requests_per_minute", "SITEDESK_TOKEN_REQUESTS_PER_MINUTE", 600),
    ("impersonation_minutes", "SITEDESK_IMPERSONATION_MINUTES", 15),
)

LIVE_VARIABLES = (
    ("live_max_subscriptions", "SITEDESK_LIVE_MAX_SUBSCRIPTIONS", 20),
    ("live_max_connections", "SITEDESK_LIVE_MAX_CONNECTIONS", 10),
    ("live_queue_size", "SITEDESK_LIVE_QUEUE_SIZE", 100),
    ("live_init_timeout_seconds", "SITEDESK_LIVE_INIT_TIMEOUT_SECONDS", 5),
    ("live_recheck_seconds", "SITEDESK_LIVE_RECHECK_SECONDS", 5),
)

PERSISTED_QUERY_VARIABLES = (
    ("persisted_queries_max", "SITEDESK_PERSISTED_QUERIES_MAX", 10000),
    ("persisted_queries_unused_days", "SITEDESK_PERSISTED_QUERIES_UNUSED_DAYS", 30),
    ("persisted_queries_per_address", "SITEDESK_PERSISTED_QUERIES_PER_ADDRESS", 20),
)


def default_database_url() -> str:
    path = Path.cwd() / "var" / "sitedesk.db"
    return f"sqlite://{path}"


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from environment variables (or the mapping given)."""
    env = os.environ if environ is None else environ
    mode = env.get("SITEDESK_ENV", "development").strip().lower()
    if mode not in {"development", "production", "test"}:
        raise ConfigurationError("SITEDESK_ENV must be development, production or test")

    keys_raw = env.get("SITEDESK_SECRET_KEYS") or env.get("SITEDESK_SECRET_KEY") or ""
    keys = tuple(k.strip() for k in keys_raw.split(",") if k.strip())
    if not keys:
        if mode == "production":
            raise ConfigurationError("SITEDESK_SECRET_KEY must be set in production")
        keys = (DEV_SECRET_KEY,)
    if mode == "production" and any(len(k) < 32 for k in keys):
        raise ConfigurationError("secret keys must be at least 32 characters in production")

    origins = tuple(o.strip() for o in env.get("SITEDESK_CORS_ORIGINS", "").split(",") if o.strip())
    files_dir, files_url = _files_location(env)
    log_format = env.get("SITEDESK_LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in {"text", "json"}:
        raise ConfigurationError("SITEDESK_LOG_FORMAT must be text or json")
    graphiql_default = "false" if mode == "production" else "true"
    return Settings(
        database_url=env.get("SITEDESK_DATABASE_URL") or default_database_url(),
        secret_keys=keys,
        files_dir=files_dir,
        smtp_url=env.get("SITEDESK_SMTP_URL") or None,
        max_upload_mb=_int(env.get("SITEDESK_MAX_UPLOAD_MB", "25"), "SITEDESK_MAX_UPLOAD_MB"),
        public_url=(env.get("SITEDESK_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        graphiql=_bool(env.get("SITEDESK_GRAPHIQL", graphiql_default), "SITEDESK_GRAPHIQL"),
        cors_origins=origins,
        env=mode,
        access_token_minutes=_int(env.get("SITEDESK_ACCESS_TOKEN_MINUTES", "15"), "SITEDESK_ACCESS_TOKEN_MINUTES"),
        refresh_token_days=_int(env.get("SITEDESK_REFRESH_TOKEN_DAYS", "30"), "SITEDESK_REFRESH_TOKEN_DAYS"),
        download_url_minutes=_int(env.get("SITEDESK_DOWNLOAD_URL_MINUTES", "15"), "SITEDESK_DOWNLOAD_URL_MINUTES"),
        max_body_mb=_int(env.get("SITEDESK_MAX_BODY_MB", "2"), "SITEDESK_MAX_BODY_MB"),
        introspection=_bool(env.get("SITEDESK_INTROSPECTION", graphiql_default), "SITEDESK_INTROSPECTION"),
        **{name: _int(env.get(variable, str(default)), variable) for name, variable, default in LIMIT_VARIABLES},
        **{name: _int(env.get(variable, str(default)), variable) for name, variable, default in LIVE_VARIABLES},
        **{
            name: _int(env.get(variable, str(default)), variable)
            for name, variable, default in PERSISTED_QUERY_VARIABLES
        },
        persisted_queries_anonymous=_bool(
            env.get("SITEDESK_PERSISTED_QUERIES_ANONYMOUS", "true"), "SITEDESK_PERSISTED_QUERIES_ANONYMOUS"
        ),
        mail_from=_mail_from(env.get("SITEDESK_MAIL_FROM"), env.get("SITEDESK_PUBLIC_URL")),
        mail_sender=_bool(env.get("SITEDESK_MAIL_SENDER", "true"), "SITEDESK_MAIL_SENDER"),
        webhook_allow_http=_bool(env.get("SITEDESK_WEBHOOK_ALLOW_HTTP", "false"), "SITEDESK_WEBHOOK_ALLOW_HTTP"),
        webhook_allow_private=_bool(
            env.get("SITEDESK_WEBHOOK_ALLOW_PRIVATE", "false"), "SITEDESK_WEBHOOK_ALLOW_PRIVATE"
        ),
        webhook_sender=_bool(env.get("SITEDESK_WEBHOOK_SENDER", "true"), "SITEDESK_WEBHOOK_SENDER"),
        files_url=files_url,
        s3_endpoint_url=env.get("SITEDESK_S3_ENDPOINT_URL") or None,
        files_redirect=_bool(env.get("SITEDESK_FILES_REDIRECT", "false"), "SITEDESK_FILES_REDIRECT"),
        trusted_proxies=_networks(env.get("SITEDESK_TRUSTED_PROXIES", ""), "SITEDESK_TRUSTED_PROXIES"),
        metrics_token=env.get("SITEDESK_METRICS_TOKEN") or None,
        log_format=log_format,
        persisted_queries=_bool(env.get("SITEDESK_PERSISTED_QUERIES", "true"), "SITEDESK_PERSISTED_QUERIES"),
        trusted_documents=Path(env["SITEDESK_TRUSTED_DOCUMENTS"]) if env.get("SITEDESK_TRUSTED_DOCUMENTS") else None,
        inbound_domain=_inbound_domain(env.get("SITEDESK_INBOUND_DOMAIN")),
        inbound_smtp=_host_port(env.get("SITEDESK_INBOUND_SMTP"), "SITEDESK_INBOUND_SMTP"),
        inbound_per_sender_per_hour=_int(
            env.get("SITEDESK_INBOUND_PER_SENDER_PER_HOUR", "60"), "SITEDESK_INBOUND_PER_SENDER_PER_HOUR"
        ),
    )


def _inbound_domain(value: str | None) -> str | None:
    """`SITEDESK_INBOUND_DOMAIN`: a mail domain such as desk.example.com (lower-cased), or None."""
    domain = (value or "").strip().lower().strip(".")
    if not domain:
        return None
    if "@" in domain or " " in domain or "." not in domain:
        raise ConfigurationError("SITEDESK_INBOUND_DOMAIN must be a mail domain, e.g. desk.example.com")
    return domain


def split_host_port(value: str) -> tuple[str, int]:
    """("127.0.0.1", 2525) of "127.0.0.1:2525" ("[::1]:2525" for IPv6)."""
    host, _, port = value.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(value)
    return host, int(port)


def _host_port(value: str | None, name: str) -> str | None:
    if not value or not value.strip():
        return None
    try:
        split_host_port(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be host:port, e.g. 127.0.0.1:2525") from None
    return value.strip()


def _networks(value: str, name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks; anything else is a configuration error."""
    import ipaddress

    items = tuple(item.strip() for item in value.split(",") if item.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigurationError(f"{name}: {item!r} is no IP address or network (e.g. 10.0.0.0/8)") from None
    return items


def _files_location(env: Mapping[str, str]) -> tuple[Path, str]:
    """(local directory, backend URL) from `SITEDESK_FILES_URL` or its alias `SITEDESK_FILES_DIR`.

    With `s3://` the local directory only holds uploads while they are hashed (`SITEDESK_FILES_DIR`
    or `./var/files`); with `file://` it is where the files live.
    """
    from urllib.parse import unquote, urlparse

    local = Path(env.get("SITEDESK_FILES_DIR") or Path.cwd() / "var" / "files")
    url = (env.get("SITEDESK_FILES_URL") or "").strip()
    if not url:
        return local, ""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise ConfigurationError("SITEDESK_FILES_URL file:// needs an absolute path, e.g. file:///srv/files")
        return Path(unquote(parsed.path)), ""
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ConfigurationError("SITEDESK_FILES_URL s3:// needs a bucket, e.g. s3://bucket/prefix")
        return local, f"s3://{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
    raise ConfigurationError("SITEDESK_FILES_URL must start with file:// or s3://")


def _mail_from(value: str | None, public_url: str | None) -> str:
    """`SITEDESK_MAIL_FROM`, or no-reply@ the public URL's host."""
    from email.utils import parseaddr
    from urllib.parse import urlparse

    if value and value.strip():
        if "@" not in parseaddr(value)[1]:
            raise ConfigurationError("SITEDESK_MAIL_FROM must be an address, e.g. Sitedesk <desk@example.com>")
        return value.strip()
    host = urlparse(public_url or "").hostname or ""
    if "." not in host or host.replace(".", "").isdigit():  # localhost or an IP: no mail domain
        host = "sitedesk.invalid"
    return f"Sitedesk <no-reply@{host}>"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return settings_from_env()
