from tests.fixtures.durable import durable
from tests.fixtures.llm import block_model_requests, settings

__all__ = ["block_model_requests", "durable", "settings"]
