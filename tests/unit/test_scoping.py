"""部门数据隔离: the one rule deciding which cases, tasks and work orders a principal reaches."""

import pytest

from windowsvc.rules.scoping import NOWHERE, confined_to, may_reach

PARALLEL_CASE = {"zjj", "zrzy", "xfjy"}
NO_STEP_YET = set()  # a case in correction, or submitted online and not yet accepted


class TestBackOfficeSystems:
    def test_a_department_reaches_a_case_with_a_step_of_its_own(self):
        assert may_reach("backoffice", "zjj", PARALLEL_CASE, reading_a_case=True)

    def test_a_department_does_not_reach_a_case_without_a_step_of_its_own(self):
        assert not may_reach("backoffice", "scjg", PARALLEL_CASE, reading_a_case=True)

    def test_a_case_with_no_step_yet_is_out_of_every_departments_reach(self):
        assert not may_reach("backoffice", "scjg", NO_STEP_YET, reading_a_case=True)

    def test_a_department_is_confined_to_itself_for_reads_and_actions(self):
        assert confined_to("backoffice", "scjg", reading_a_case=True) == "scjg"
        assert confined_to("backoffice", "scjg") == "scjg"


class TestSupervisors:
    def test_a_supervisor_reads_any_case(self):
        assert may_reach("supervisor", "rsj", {"scjg"}, reading_a_case=True)
        assert may_reach("supervisor", "rsj", NO_STEP_YET, reading_a_case=True)

    def test_a_supervisor_acts_only_where_their_department_has_a_step(self):
        assert may_reach("supervisor", "zrzy", PARALLEL_CASE)
        assert not may_reach("supervisor", "rsj", {"scjg"})
        assert not may_reach("supervisor", "scjg", NO_STEP_YET)

    def test_a_supervisor_lists_only_their_departments_tasks_and_work_orders(self):
        assert confined_to("supervisor", "scjg") == "scjg"
        assert confined_to("supervisor", "scjg", reading_a_case=True) is None


class TestEveryoneElse:
    @pytest.mark.parametrize("role", ["window", "oversight", "admin"])
    def test_the_window_oversight_and_admin_reach_everything(self, role):
        assert confined_to(role, None) is None
        assert may_reach(role, None, NO_STEP_YET)

    @pytest.mark.parametrize("role", ["citizen", "system", "nobody"])
    def test_a_role_without_a_department_reaches_no_departments_objects(self, role):
        assert confined_to(role, None) == NOWHERE
        assert not may_reach(role, None, {"scjg"}, reading_a_case=True)

    def test_a_department_role_without_a_department_reaches_nothing(self):
        assert not may_reach("backoffice", None, {"scjg"})
        assert not may_reach("backoffice", "", {""})
