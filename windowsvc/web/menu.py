"""Each role's menu: the pages a person of that role works with, first one the home page.

An entry whose page is not installed is left out, so a menu never links to a missing page.
"""

from flask import current_app, url_for

MENUS = {
    "window": [
        ("web_workbench.index", "我的工作台"),
        ("web_counter.index", "综合受理"),
    ],
    "supervisor": [
        ("web_desk.index", "科室办件"),
        ("web_desk.incidents", "异常处理"),
        ("web_desk.orders", "差评整改"),
    ],
    "oversight": [
        ("web_oversight.index", "预警看板"),
        ("web_oversight.indicators", "指标统计"),
        ("web_oversight.appeals", "申诉复核"),
        ("web_oversight.integrity", "记录核验"),
        ("web_oversight.calendar", "节假日数据"),
    ],
}
ROLE_LABELS = {
    "window": "综合窗口",
    "backoffice": "部门业务系统",
    "supervisor": "科室负责人",
    "oversight": "电子监察",
    "admin": "系统管理员",
}


def menu_of(role: str | None) -> list[tuple[str, str]]:
    """(url, label) of the role's pages that exist in this app."""
    views = current_app.view_functions
    return [(url_for(e), label) for e, label in MENUS.get(role or "", []) if e in views]


def home_of(role: str | None) -> str | None:
    """The role's first page, or None when the role has no pages."""
    entries = menu_of(role)
    return entries[0][0] if entries else None
