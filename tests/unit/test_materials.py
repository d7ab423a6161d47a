"""材料齐全性: missing materials all at once, and 容缺 commitments."""

from datetime import date

from windowsvc.rules.materials import (
    check_deferrals,
    missing_materials,
    required_materials,
    unknown_codes,
)

FOOD_LICENCE = {
    "materials": [
        {"code": "application_form", "name": "食品经营许可申请书", "deferrable": False},
        {
            "code": "business_licence",
            "name": "营业执照",
            "required": True,
            "evidence": "business_licence",
            "deferrable": False,
        },
        {"code": "floor_plan", "name": "经营场所平面图", "required": True, "deferrable": True},
        {"code": "agent_authorization", "name": "授权委托书", "required": False},
        {"code": "safety_rules", "name": "食品安全管理制度", "required": True, "deferrable": True},
    ]
}
REQUIRED = ["application_form", "business_licence", "floor_plan", "safety_rules"]
DUE = date(2026, 3, 20)


def missing_codes(handed_in=(), fetched=(), deferred=()):
    result = missing_materials(FOOD_LICENCE, set(handed_in), set(fetched), set(deferred))
    return [m["code"] for m in result]


class TestRequiredMaterials:
    def test_materials_are_required_unless_marked_optional_in_catalog_order(self):
        assert [m["code"] for m in required_materials(FOOD_LICENCE)] == REQUIRED


class TestMissingMaterials:
    def test_every_missing_material_is_listed_at_once_in_catalog_order(self):
        assert missing_codes(handed_in={"safety_rules"}) == REQUIRED[:3]

    def test_each_entry_names_the_material_for_the_clerk(self):
        result = missing_materials(FOOD_LICENCE, {"application_form", "floor_plan"}, set(), set())
        assert result == [
            {"code": "business_licence", "name": "营业执照"},
            {"code": "safety_rules", "name": "食品安全管理制度"},
        ]

    def test_handed_in_fetched_and_deferred_materials_each_satisfy(self):
        assert (
            missing_codes(
                handed_in={"application_form"},
                fetched={"business_licence"},
                deferred={"floor_plan", "safety_rules"},
            )
            == []
        )

    def test_a_fetched_material_alone_satisfies(self):
        assert "business_licence" not in missing_codes(fetched={"business_licence"})
        assert "business_licence" in missing_codes()

    def test_a_deferred_material_alone_satisfies(self):
        assert "floor_plan" not in missing_codes(deferred={"floor_plan"})

    def test_optional_materials_are_never_missing(self):
        assert "agent_authorization" not in missing_codes()

    def test_a_reason_is_attached_when_one_is_known(self):
        result = missing_materials(
            FOOD_LICENCE,
            set(REQUIRED) - {"business_licence"},
            set(),
            set(),
            reasons={"business_licence": "共享数据未查到", "agent_authorization": "unused"},
        )
        assert result == [
            {"code": "business_licence", "name": "营业执照", "reason": "共享数据未查到"}
        ]


class TestUnknownCodes:
    def test_codes_the_item_does_not_list_are_reported_sorted_once(self):
        codes = ["floor_plan", "marriage_cert", "birth_cert", "marriage_cert"]
        assert unknown_codes(FOOD_LICENCE, codes) == ["birth_cert", "marriage_cert"]

    def test_known_codes_give_nothing(self):
        assert unknown_codes(FOOD_LICENCE, REQUIRED + ["agent_authorization"]) == []


class TestCheckDeferrals:
    def test_a_deferrable_material_committed_by_the_due_date_is_accepted(self):
        deferred = [
            {"code": "floor_plan", "commit_date": date(2026, 3, 10)},
            {"code": "safety_rules", "commit_date": DUE},
        ]
        assert check_deferrals(FOOD_LICENCE, deferred, DUE) == {}

    def test_a_key_material_cannot_be_deferred(self):
        deferred = [{"code": "business_licence", "commit_date": date(2026, 3, 10)}]
        errors = check_deferrals(FOOD_LICENCE, deferred, DUE)
        assert list(errors) == ["business_licence"]
        assert "营业执照" in errors["business_licence"]
        assert "不可容缺" in errors["business_licence"]

    def test_a_material_without_a_deferrable_flag_cannot_be_deferred(self):
        deferred = [{"code": "agent_authorization", "commit_date": date(2026, 3, 10)}]
        assert "agent_authorization" in check_deferrals(FOOD_LICENCE, deferred, DUE)

    def test_a_commit_date_after_the_promised_due_date_is_refused(self):
        deferred = [{"code": "floor_plan", "commit_date": date(2026, 3, 21)}]
        errors = check_deferrals(FOOD_LICENCE, deferred, DUE)
        assert list(errors) == ["floor_plan"]
        assert "2026-03-20" in errors["floor_plan"]

    def test_an_unknown_code_is_reported(self):
        deferred = [{"code": "moon_permit", "commit_date": date(2026, 3, 10)}]
        assert check_deferrals(FOOD_LICENCE, deferred, DUE) == {"moon_permit": "该事项没有此材料"}

    def test_every_problem_is_reported_not_only_the_first(self):
        deferred = [
            {"code": "moon_permit", "commit_date": date(2026, 3, 10)},
            {"code": "application_form", "commit_date": date(2026, 3, 10)},
            {"code": "safety_rules", "commit_date": date(2026, 4, 1)},
            {"code": "floor_plan", "commit_date": date(2026, 3, 10)},
        ]
        errors = check_deferrals(FOOD_LICENCE, deferred, DUE)
        assert set(errors) == {"moon_permit", "application_form", "safety_rules"}

    def test_without_a_promised_due_date_any_commit_date_is_allowed(self):
        deferred = [{"code": "floor_plan", "commit_date": date(2030, 1, 1)}]
        assert check_deferrals(FOOD_LICENCE, deferred, None) == {}
