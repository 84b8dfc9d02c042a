"""Settings: one class, read from MASTERPLAN_* environment variables and a `.env` file."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("masterplan", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable. Defaults serve one machine with no setup."""

    model_config = SettingsConfigDict(env_prefix="MASTERPLAN_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Database, workspaces and logs.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir.")
    workspaces_dir: Path | None = Field(None, description="Where execution workspaces are created.")
    redis_url: str = Field("", description="Redis URL for event fan-out across processes.")

    host: str = "127.0.0.1"
    port: int = 8000
    local_token: SecretStr = Field(
        SecretStr(""), description="Token for the local user; generated and stored in data_dir when empty."
    )
    max_body_bytes: int = Field(5_000_000, description="Largest accepted request body.")

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

    parallelism: int = Field(8, ge=1, le=512, description="Tasks run at once within a wave.")
    llm_requests_per_second: float = Field(0.0, ge=0, description="Rate limit of coder calls; 0 is none.")
    task_max_retries: int = Field(3, ge=0, le=20)
    soft_cost_limit_usd: float = 50.0
    hard_cost_limit_usd: float = 100.0

    executor_id: str = Field("", description="Unique id of this process for durable execution.")
    application_version: str = "masterplan-1"

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
