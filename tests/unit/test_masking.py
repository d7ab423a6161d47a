"""脱敏: personal data shown to the public is masked on the server."""

import pytest

from windowsvc.rules.masking import mask_applicant, mask_id_number, mask_name, mask_phone

ID_NUMBER = "330102199003071234"
PHONE = "13812345678"


class TestMaskName:
    def test_a_three_character_name_keeps_first_and_last(self):
        assert mask_name("张三丰") == "张*丰"

    def test_a_two_character_name_keeps_only_the_surname(self):
        assert mask_name("张三") == "张*"

    def test_a_long_name_hides_every_middle_character(self):
        assert mask_name("欧阳娜娜子") == "欧***子"

    def test_surrounding_spaces_are_not_counted_as_characters(self):
        assert mask_name("  张三  ") == "张*"

    @pytest.mark.parametrize("empty", ["", None])
    def test_an_empty_name_stays_empty(self, empty):
        assert mask_name(empty) == ""


class TestMaskIdNumber:
    def test_a_resident_id_keeps_the_first_six_and_last_four(self):
        masked = mask_id_number(ID_NUMBER)
        assert masked.startswith("330102")
        assert masked.endswith("1234")
        assert set(masked[6:-4]) == {"*"}

    def test_the_date_of_birth_is_hidden(self):
        assert "19900307" not in mask_id_number(ID_NUMBER)
        assert "1990" not in mask_id_number(ID_NUMBER)

    def test_a_check_character_x_is_kept_at_the_end(self):
        assert mask_id_number("11010519491231002X").endswith("002X")

    @pytest.mark.parametrize("short", ["E1234567", "1234567890"])
    def test_a_number_too_short_to_keep_ten_characters_is_hidden_entirely(self, short):
        assert mask_id_number(short) == "*" * len(short)


class TestMaskPhone:
    def test_a_mobile_number_keeps_the_first_three_and_last_four(self):
        assert mask_phone(PHONE) == "138****5678"

    def test_a_short_number_is_hidden_entirely(self):
        assert mask_phone("1234567") == "*******"

    @pytest.mark.parametrize("empty", ["", None])
    def test_no_phone_stays_empty(self, empty):
        assert mask_phone(empty) == ""


class TestMaskApplicant:
    applicant = {
        "type": "person",
        "name": "张三丰",
        "id_type": "resident_id",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "address": "杭州市西湖区文三路 100 号",
        "email": "zhang@example.com",
    }

    def test_name_id_number_and_phone_are_masked(self):
        masked = mask_applicant(self.applicant)
        assert masked["name"] == "张*丰"
        assert masked["id_number"] == mask_id_number(ID_NUMBER)
        assert masked["phone"] == "138****5678"
        assert masked["type"] == "person"
        assert masked["id_type"] == "resident_id"

    def test_fields_other_than_the_masked_ones_are_not_passed_on(self):
        masked = mask_applicant(self.applicant)
        assert set(masked) == {"type", "name", "id_type", "id_number", "phone"}

    def test_nothing_personal_leaks_anywhere_in_the_output(self):
        shown = repr(mask_applicant(self.applicant))
        for secret in (ID_NUMBER, PHONE, "张三丰", "19900307", "12345678", "文三路", "zhang@"):
            assert secret not in shown

    def test_missing_or_null_fields_give_empty_masks_not_errors(self):
        masked = mask_applicant({"type": "person", "name": "李四", "phone": None})
        assert masked == {
            "type": "person",
            "name": "李*",
            "id_type": None,
            "id_number": "",
            "phone": "",
        }
