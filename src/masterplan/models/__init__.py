"""ORM tables, one module per aggregate."""

from masterplan.models.auth import AuthSession, RateLimitHit, SignInCode, SigningKey
from masterplan.models.base import Base
from masterplan.models.conversation import Conversation, Generation, Message
from masterplan.models.discovery import DiscoveryDocument
from masterplan.models.event import EventStream, ExecutionEvent
from masterplan.models.history import HistoryEntry, MasterplanVersion
from masterplan.models.plan import Masterplan, Milestone, Phase, Subtask, Task, TaskAttempt
from masterplan.models.quality import AcceptanceTest, AcceptanceTestRun, PlanReviewIteration, Review
from masterplan.models.user import ApiToken, User
from masterplan.models.worker import WorkerLease

__all__ = [
    "AcceptanceTest",
    "AcceptanceTestRun",
    "ApiToken",
    "AuthSession",
    "Base",
    "Conversation",
    "DiscoveryDocument",
    "EventStream",
    "ExecutionEvent",
    "Generation",
    "HistoryEntry",
    "Masterplan",
    "MasterplanVersion",
    "Message",
    "Milestone",
    "Phase",
    "PlanReviewIteration",
    "RateLimitHit",
    "Review",
    "SignInCode",
    "SigningKey",
    "Subtask",
    "Task",
    "TaskAttempt",
    "User",
    "WorkerLease",
]
