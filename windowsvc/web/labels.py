"""Chinese names the pages give to codes the engine stores, one table each for every page."""

DELIVERY_LABELS = {"window": "窗口领取", "express": "快递寄送", "electronic": "电子送达"}
CHANNEL_LABELS = {
    "window": "窗口",
    "online": "网上",
    "mobile": "移动端",
    "self_service": "自助终端",
}
# a notice's delivery state: its name and the badge kind it is shown with
NOTICE_STATES = {
    "pending": ("待发送", "neutral"),
    "sending": ("发送中", "info"),
    "sent": ("已发出", "ok"),
    "dead": ("发送失败", "red"),
}
