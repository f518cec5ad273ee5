"""兑政策: applications, review (single and 联审), the budget ledger, payment batches and 免申即享."""

from qinqing.workflow.actors import SYSTEM, Actor
from qinqing.workflow.errors import WorkflowError
from qinqing.workflow.idempotency import CommandResult
from qinqing.workflow.service import WorkflowService

__all__ = ["SYSTEM", "Actor", "CommandResult", "WorkflowError", "WorkflowService"]
