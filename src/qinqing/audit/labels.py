"""Chinese labels for audit actions and object types, for the pages and ``qinqing audit show``.

A piece that records actions of its own registers their labels once, at import time::

    from qinqing.audit import register_labels
    register_labels(actions={"application.submit": "提交申请"}, object_types={"application": "申请"})

An action without a label is shown as its name.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "policy.save": "保存草稿",
    "policy.publish": "发布",
    "policy.withdraw": "撤回",
    "policy.remit_approve": "批准超出职权范围",
    "catalogue.load": "载入政策目录",
    "user.create": "创建用户",
    "user.update": "修改用户",
    "user.password_change": "修改密码",
    "user.password_reset": "重置密码",
    "user.deactivate": "停用用户",
    "user.activate": "启用用户",
    "user.role_change": "变更角色",
    "user.token_create": "创建访问令牌",
    "user.token_revoke": "吊销访问令牌",
    "registry.import": "导入企业名录",
    "run.publish": "发布匹配结果",
}

OBJECT_TYPE_LABELS: dict[str, str] = {
    "policy": "政策",
    "catalogue": "政策目录",
    "user": "用户",
    "registry": "企业名录",
    "enterprise": "企业",
    "run": "匹配运行",
}


def register_labels(*, actions: dict[str, str] | None = None,
                    object_types: dict[str, str] | None = None) -> None:
    """Add labels for a piece's own actions and object types (later registrations win)."""
    ACTION_LABELS.update(actions or {})
    OBJECT_TYPE_LABELS.update(object_types or {})


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_type_label(object_type: str) -> str:
    return OBJECT_TYPE_LABELS.get(object_type, object_type)
