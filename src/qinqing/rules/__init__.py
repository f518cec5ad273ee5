"""The policy language: load, check, compile and evaluate clause-cited policies."""

from qinqing.rules.compile import CompiledPolicy, compile_policy
from qinqing.rules.errors import PolicyErrors, RuleError
from qinqing.rules.evaluate import ConditionTrace, Outcome, evaluate
from qinqing.rules.load import check_files, load_policies, load_policy, parse_policy_text, policy_files
from qinqing.rules.model import Benefit, Condition, Policy

__all__ = [
    "Benefit", "CompiledPolicy", "Condition", "ConditionTrace", "Outcome", "Policy", "PolicyErrors", "RuleError",
    "check_files", "compile_policy", "evaluate", "load_policies", "load_policy", "parse_policy_text", "policy_files",
]  # fmt: skip
