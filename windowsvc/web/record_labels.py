"""The record page's Chinese labels for what the record stores as codes: roles and chain
faults (event types: ``services.cases.event_labels``; notice states: ``web.labels``)."""

from .menu import ROLE_LABELS

ROLES = {**ROLE_LABELS, "citizen": "申请人", "system": "系统"}
FAULTS = {
    "hash_mismatch": "内容与哈希不符 (被改动)",
    "prev_hash_mismatch": "与上一条事件断链",
    "seq_gap": "缺失事件",
    "truncated": "事件链被截断",
    "head_mismatch": "办件链头不符",
    "no_events": "没有任何事件",
    "orphan_events": "事件属于已不存在的办件",
}
