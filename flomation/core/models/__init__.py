"""Core's tables. Users are referred to by identity's user id (Account.id), never a foreign key into identity."""

from flomation.core.models.ai import AgentMemory, AiUsageDay
from flomation.core.models.connections import Connection
from flomation.core.models.environments import Environment, Secret, Variable
from flomation.core.models.executions import Execution, ExecutionState, ExecutionStep
from flomation.core.models.flow_sources import FlowSource
from flomation.core.models.nonces import RunnerNonce
from flomation.core.models.organisations import (
    Account,
    ApiToken,
    Group,
    Invitation,
    MemberRole,
    Membership,
    Organisation,
)
from flomation.core.models.runners import Queue, RegistrationFailure, Runner
from flomation.core.models.workflows import (
    Deployment,
    FlowSecret,
    Revision,
    Workflow,
    WorkflowFavourite,
    WorkflowState,
)

__all__ = [
    "Account",
    "AgentMemory",
    "AiUsageDay",
    "ApiToken",
    "Connection",
    "Deployment",
    "Environment",
    "Execution",
    "ExecutionState",
    "ExecutionStep",
    "FlowSecret",
    "FlowSource",
    "Group",
    "Invitation",
    "MemberRole",
    "Membership",
    "Organisation",
    "Queue",
    "RegistrationFailure",
    "Revision",
    "Runner",
    "RunnerNonce",
    "Secret",
    "Variable",
    "Workflow",
    "WorkflowFavourite",
    "WorkflowState",
]
