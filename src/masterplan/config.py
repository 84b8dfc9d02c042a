"""Settings: one class, read from MASTERPLAN_* environment variables and a `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("masterplan", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable. Defaults serve one machine with no setup."""

    model_config = SettingsConfigDict(env_prefix="MASTERPLAN_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Database, workspaces and logs.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    workspaces_dir: Path | None = Field(None, description="Where execution workspaces are created.")
    redis_url: str = Field("", description="Redis URL for event fan-out across processes.")
    events_poll_seconds: float = Field(
        1.0,
        ge=0,
        description="How often the API checks the event log for events no pub/sub carried; 0: never.",
    )

    host: str = "127.0.0.1"
    port: int = 8000
    local_token: SecretStr = Field(
        SecretStr(""), description="Token for the local user; generated and stored in data_dir when empty."
    )
    max_body_bytes: int = Field(5_000_000, description="Largest accepted request body.")
    admin_token: SecretStr = Field(
        SecretStr(""), description="An admin API token for automation; empty: none."
    )
    public_url: str = Field("", description="Base URL printed in sign-in links; empty: http://host:port.")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser, comma-separated."
    )
    access_token_minutes: int = Field(15, ge=1, le=1440, description="Lifetime of a JWT access token.")
    refresh_token_days: int = Field(14, ge=1, le=365, description="Idle lifetime of a sign-in session.")
    signin_code_minutes: int = Field(15, ge=1, le=1440, description="Lifetime of a one-time sign-in code.")
    signin_max_failures: int = Field(5, ge=1, description="Failed sign-ins before an account is locked.")
    signin_lockout_minutes: int = Field(15, ge=1, description="How long failures count and a lockout lasts.")
    generation_requests_per_hour: int = Field(
        30, ge=0, description="Generations a user may start per hour; 0: no limit."
    )
    config_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_config_dir("masterplan", appauthor=False)),
        description="Where `masterplan login` keeps the server URL and token.",
    )

    model: str = Field("", description="Default model for every role, e.g. anthropic:claude-sonnet-4-5, sim.")
    model_discovery: str = ""
    model_planner: str = ""
    model_coder: str = ""
    model_coder_strong: str = Field("", description="Coder model for high and critical tasks.")
    model_reviewer: str = ""
    model_chat: str = ""
    openai_base_url: str = Field("", description="OpenAI-compatible server (Ollama, vLLM, llama.cpp).")
    llm_timeout_seconds: float = 120.0
    llm_max_retries: int = 3
    llm_retry_backoff_seconds: float = Field(
        1.0, ge=0, description="First wait before retrying a provider error."
    )

    parallelism: int = Field(8, ge=1, le=512, description="Tasks run at once within a wave.")
    llm_requests_per_second: float = Field(0.0, ge=0, description="Rate limit of coder calls; 0 is none.")
    task_max_retries: int = Field(3, ge=0, le=20)
    soft_cost_limit_usd: float = 50.0
    hard_cost_limit_usd: float = 100.0

    acceptance_timeout_seconds: float = Field(
        60.0, gt=0, description="Wall-clock limit of one acceptance test."
    )
    acceptance_cpu_seconds: int = Field(60, ge=1, description="CPU seconds per sandboxed process.")
    acceptance_memory_mb: int = Field(1024, ge=64, description="Memory (address space) of a sandboxed test.")
    acceptance_file_size_mb: int = Field(64, ge=1, description="Largest file a sandboxed test may write.")
    acceptance_max_processes: int = Field(64, ge=4, description="Processes a sandboxed test may run at once.")
    acceptance_output_bytes: int = Field(65536, ge=1024, description="Output kept per run (head and tail).")
    sandbox_uid: int | None = Field(
        None, ge=1, description="When the server runs as root: the user id acceptance tests run as."
    )
    gate_must_pass_rate: float = Field(1.0, ge=0, le=1, description="Gate S: share of must tests passing.")
    gate_should_pass_rate: float = Field(
        0.95, ge=0, le=1, description="Gate S: share of should tests passing."
    )

    executor_id: str = Field("", description="Unique id of this process for durable execution.")
    embedded_worker: bool = Field(
        True, description="serve runs executions and generations; false (serve --no-worker): workers do."
    )
    worker_concurrency: int = Field(
        8, ge=1, le=256, description="Executions (and, apart, generations) one worker runs at once."
    )
    lease_seconds: float = Field(
        15.0, ge=2, description="PostgreSQL: a runner silent this long is dead; its workflows are recovered."
    )
    otlp_endpoint: str = Field(
        "", description="OTLP/HTTP traces URL for OpenTelemetry spans (masterplan[otel]); empty: off."
    )
    application_version: str = "masterplan-1"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'masterplan.db'}"

    @property
    def resolved_workspaces_dir(self) -> Path:
        return (self.workspaces_dir or self.data_dir / "workspaces").expanduser()

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
