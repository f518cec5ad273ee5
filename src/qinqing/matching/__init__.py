"""Matching: every enterprise × every policy, with statuses, amounts and reasons."""
