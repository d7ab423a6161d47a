"""Identity numbers: resident ID check digit (GB 11643) and USCC shape (GB 32100)."""

import pytest

from windowsvc.rules.identity import identity_problem, resident_id_problem, uscc_problem

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id(body: str) -> str:
    """A resident ID with the check digit of the GB 11643 weight table (independent oracle)."""
    total = sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


VALID_ID = resident_id("33010219900307123")
USCC = "91330106MA2B3C4D5E"


class TestResidentId:
    def test_the_example_of_the_standard_is_valid(self):
        assert resident_id_problem("11010519491231002X") is None

    def test_an_id_with_a_correct_check_digit_is_valid(self):
        assert resident_id_problem(VALID_ID) is None

    def test_every_wrong_check_character_is_reported(self):
        for character in "0123456789X":
            if character != VALID_ID[-1]:
                assert "校验位" in resident_id_problem(VALID_ID[:-1] + character)

    def test_a_changed_digit_in_the_body_is_reported(self):
        tampered = VALID_ID[:10] + str((int(VALID_ID[10]) + 1) % 10) + VALID_ID[11:]
        assert "校验位" in resident_id_problem(tampered)

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "11010519491231002",
            "11010519491231002X0",
            "1101051949123100X2",
            "110105194912310 2X",
        ],
    )
    def test_a_wrong_shape_is_reported_as_a_length_problem(self, value):
        assert "18位" in resident_id_problem(value)

    def test_a_lowercase_x_is_not_accepted_here_the_api_upper_cases_first(self):
        assert resident_id_problem("11010519491231002x") is not None

    def test_a_resident_id_typed_in_full_width_digits_is_not_valid(self):
        full_width = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002") + "X"
        assert resident_id_problem(full_width) is not None


class TestUscc:
    def test_a_well_formed_code_passes(self):
        assert uscc_problem(USCC) is None

    @pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
    def test_letters_excluded_by_the_standard_are_refused(self, letter):
        assert uscc_problem(USCC[:-1] + letter) is not None

    def test_the_administrative_division_part_must_be_digits(self):
        assert uscc_problem("91A30106MA2B3C4D5E") is not None

    @pytest.mark.parametrize("value", ["", USCC[:-1], USCC + "1", USCC.lower()])
    def test_a_code_of_the_wrong_length_or_case_is_refused(self, value):
        assert uscc_problem(value) == "统一社会信用代码应为18位"


class TestIdentityProblem:
    def test_resident_ids_get_the_check_digit_test(self):
        assert identity_problem("resident_id", VALID_ID) is None
        wrong = VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")
        assert "校验位" in identity_problem("resident_id", wrong)

    def test_organisations_get_the_uscc_test(self):
        assert identity_problem("uscc", USCC) is None
        assert identity_problem("uscc", VALID_ID[:-1] + "I") is not None

    @pytest.mark.parametrize(("value", "ok"), [("E1", False), ("E12", True), ("E" * 41, False)])
    def test_other_document_types_are_only_length_checked(self, value, ok):
        assert (identity_problem("passport", value) is None) is ok
