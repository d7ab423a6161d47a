"""Chinese names of lifecycle events as staff read a case's record (全过程记录).

The citizen's timeline shows the public events only (``status.PUBLIC_EVENTS``); staff see every
event, so the staff table starts from the public names and adds the rest. One table for every
staff page.
"""

from ...rules.warnings import LEVEL_LABELS
from .status import PUBLIC_EVENTS

STAFF_EVENTS = {
    **PUBLIC_EVENTS,
    "application.received": "收件",
    "application.deemed_accepted": "视为受理 (逾期未告知补正)",
    "application.deferred_supplied": "容缺材料已补交",
    "application.processing_started": "后台开始办理",
    "stage.opened": "新的办理阶段开始",
    "step.completed": "部门办理环节办结",
    "step.failed": "部门办理环节出错 (将重试)",
    "step.incident": "部门办理环节转为异常 (待处理)",
    "step.retries_set": "异常已处理: 设置重试次数, 重新办理",
    "steps.cancelled": "未办结的办理环节已取消",
    "steps.reopened": "补正后办理环节重新开始",
    "calendar.recounted": "节假日安排公布, 期限已重算",
    "rating.excluded": "评价经申诉复核不计入统计",
    "rectification.followed_up": "差评已回访",
    "rectification.rectified": "差评已整改",
    "rectification.explained": "差评已说明情况",
    "rectification.appealed": "部门申诉复核",
    "rectification.appeal_upheld": "申诉成立",
    "rectification.appeal_rejected": "申诉不成立",
    "rectification.rated": "申请人已评价整改",
    **{f"oversight.{level}": f"电子监察: {label}" for level, label in LEVEL_LABELS.items()},
}


def staff_label(event_type: str) -> str:
    """The event's Chinese name; an unknown type is shown as it is recorded."""
    return STAFF_EVENTS.get(event_type, event_type)
