"""The record page's Chinese labels for what the record stores as codes: roles, event types,
chain faults, step outcomes, notice delivery states."""

from .menu import ROLE_LABELS

ROLES = {**ROLE_LABELS, "citizen": "申请人", "system": "系统"}
EVENTS = {
    "application.received": "收件",
    "application.accepted": "受理",
    "application.deemed_accepted": "视为受理",
    "application.correction_requested": "一次性告知补正",
    "application.supplemented": "补正材料",
    "application.deferred_supplied": "补交容缺材料",
    "application.refused": "不予受理",
    "application.processing_started": "开始办理",
    "application.suspended": "进入特别程序",
    "application.resumed": "特别程序结束",
    "application.extended": "延长办理期限",
    "application.withdrawn": "撤回",
    "application.approved": "准予许可",
    "application.denied": "不予许可",
    "application.result_ready": "结果待领取",
    "application.delivered": "送达",
    "application.terminated": "终止办理",
    "application.archived": "归档",
    "stage.opened": "开启办理环节",
    "step.completed": "部门办结",
    "step.failed": "部门办理失败",
    "step.incident": "转为异常",
    "step.retries_set": "重设重试次数",
    "steps.cancelled": "取消未办结环节",
    "steps.reopened": "重新开启环节",
    "calendar.recounted": "按节假日安排重算期限",
    "rating.given": "评价",
    "rating.excluded": "评价不计入统计",
    "rectification.opened": "差评整改立单",
    "rectification.followed_up": "回访",
    "rectification.rectified": "整改",
    "rectification.explained": "解释说明",
    "rectification.closed": "整改办结",
    "rectification.appealed": "申诉",
    "rectification.appeal_upheld": "申诉成立",
    "rectification.appeal_rejected": "申诉驳回",
    "rectification.rated": "整改评价",
}
FAULTS = {
    "hash_mismatch": "内容与哈希不符 (被改动)",
    "prev_hash_mismatch": "与上一条事件断链",
    "seq_gap": "缺失事件",
    "truncated": "事件链被截断",
    "head_mismatch": "办件链头不符",
    "no_events": "没有任何事件",
    "orphan_events": "事件属于已不存在的办件",
}
OUTCOMES = {"approve": "同意", "deny": "不同意", "correction": "需补正"}
NOTICE_STATES = {
    "pending": ("待发送", "neutral"),
    "sending": ("发送中", "info"),
    "sent": ("已发出", "ok"),
    "dead": ("发送失败", "red"),
}
