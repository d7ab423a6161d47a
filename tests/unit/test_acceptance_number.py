"""统一受理号: layout, ISO 7064 MOD 11-2 check character, normalisation and rejection."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from windowsvc.rules.acceptance_number import (
    CHANNEL_DIGITS,
    AcceptanceNumber,
    InvalidNumber,
    check_character,
    compose,
    parse,
)

VALID = "3301002026112210000019"  # 330100 + 20261122 + window + 000001 + check 9
CHECK_CHARACTERS = "0123456789X"


def reference_check(digits: str) -> str:
    """Independent oracle: weighted sum with weights 2^(n-i) mod 11 (GB 11643 for n = 17)."""
    n = len(digits)
    total = sum(int(d) * pow(2, n - i, 11) for i, d in enumerate(digits))
    return "10X98765432"[total % 11]


def substitute(text: str, position: int, character: str) -> str:
    return text[:position] + character + text[position + 1 :]


class TestCheckCharacter:
    def test_the_resident_id_example_of_gb_11643_has_check_character_x(self):
        assert check_character("11010519491231002") == "X"

    def test_it_agrees_with_the_weighted_sum_formula_of_the_standard(self):
        for body in ("33010219900101123", "110105194912310021", "330100202611221000001"):
            assert check_character(body) == reference_check(body)

    def test_the_gb_11643_weight_table_gives_the_same_result(self):
        weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        body = "44030519850612341"
        total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
        assert check_character(body) == "10X98765432"[total % 11]

    def test_it_refuses_anything_but_digits(self):
        with pytest.raises(ValueError):
            check_character("33010A")
        with pytest.raises(ValueError):
            check_character("")


class TestCompose:
    def test_a_number_is_region_date_channel_sequence_and_check(self):
        number = compose("330100", date(2026, 11, 22), "window", 1)
        assert number == VALID
        assert len(number) == 22

    def test_each_channel_has_its_own_digit(self):
        digits = {
            channel: compose("330100", date(2026, 1, 5), channel, 42)[14]
            for channel in ("window", "online", "mobile", "self_service")
        }
        assert digits == {"window": "1", "online": "2", "mobile": "3", "self_service": "4"}

    def test_the_sequence_is_zero_padded_to_six_digits(self):
        assert compose("330100", date(2026, 1, 5), "online", 123)[15:21] == "000123"

    @pytest.mark.parametrize("region", ["33010", "3301000", "33O100", ""])
    def test_a_region_code_that_is_not_six_digits_is_refused(self, region):
        with pytest.raises(ValueError, match="region"):
            compose(region, date(2026, 1, 5), "window", 1)

    @pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
    def test_a_sequence_outside_one_to_999999_is_refused(self, sequence):
        with pytest.raises(ValueError, match="sequence"):
            compose("330100", date(2026, 1, 5), "window", sequence)


class TestParse:
    def test_a_composed_number_parses_back_into_its_parts(self):
        number = compose("330106", date(2025, 12, 31), "self_service", 999_999)
        assert parse(number) == AcceptanceNumber(
            number, "330106", date(2025, 12, 31), "self_service", 999_999
        )

    def test_spaces_and_dashes_typed_by_people_are_removed(self):
        assert parse("3301 0020-2611 2210 0000 19").text == VALID

    def test_full_width_and_unicode_dashes_and_tabs_are_removed_too(self):
        assert parse("330100－20261122‐1—000001\t9").text == VALID

    def test_a_lowercase_x_check_character_is_upper_cased(self):
        body = next(
            f"330100202601051{seq:06d}"
            for seq in range(1, 1000)
            if check_character(f"330100202601051{seq:06d}") == "X"
        )
        parsed = parse(body + "x")
        assert parsed.text == body + "X"

    @pytest.mark.parametrize("text", ["", "   ", VALID[:-1], VALID + "0", "A" + VALID[1:]])
    def test_text_of_the_wrong_shape_is_rejected(self, text):
        with pytest.raises(InvalidNumber, match="22位"):
            parse(text)

    def test_none_is_rejected_as_a_wrong_shape(self):
        with pytest.raises(InvalidNumber):
            parse(None)

    def test_a_wrong_check_character_is_rejected(self):
        wrong = VALID[:21] + "8"
        with pytest.raises(InvalidNumber, match="校验位"):
            parse(wrong)

    @pytest.mark.parametrize("desk_date", ["20261332", "20260230", "20250229", "20260000"])
    def test_an_impossible_desk_date_is_rejected_even_with_a_correct_check(self, desk_date):
        body = f"330100{desk_date}1000001"
        with pytest.raises(InvalidNumber, match="日期"):
            parse(body + check_character(body))

    def test_a_leap_day_is_a_valid_desk_date(self):
        body = "330100202402291000001"
        assert parse(body + check_character(body)).desk_date == date(2024, 2, 29)

    def test_sequence_000000_is_rejected_even_with_a_correct_check(self):
        body = "330100202611221000000"
        with pytest.raises(InvalidNumber, match="序号"):
            parse(body + check_character(body))

    @pytest.mark.parametrize("channel_digit", ["0", "5", "9"])
    def test_a_channel_digit_outside_one_to_four_is_rejected(self, channel_digit):
        body = f"33010020261122{channel_digit}000001"
        with pytest.raises(InvalidNumber):
            parse(body + check_character(body))

    def test_full_width_digits_typed_with_a_chinese_ime_are_normalised(self):
        mixed = "".join(chr(ord(c) + 0xFEE0) for c in VALID[:14]) + VALID[14:]
        fully = "".join(chr(ord(c) + 0xFEE0) for c in VALID)
        assert parse(mixed).text == VALID
        assert parse(fully).text == VALID


class TestTamperingIsDetected:
    def test_every_single_character_substitution_is_rejected(self):
        for position in range(22):
            for character in CHECK_CHARACTERS:
                if character == VALID[position]:
                    continue
                with pytest.raises(InvalidNumber):
                    parse(substitute(VALID, position, character))

    def test_every_transposition_of_adjacent_unequal_digits_is_rejected(self):
        number = compose("330106", date(2026, 3, 17), "online", 482_519)
        swaps = 0
        for i in range(21):
            a, b = number[i], number[i + 1]
            if a == b or "X" in (a, b):
                continue
            swapped = number[:i] + b + a + number[i + 2 :]
            with pytest.raises(InvalidNumber):
                parse(swapped)
            swaps += 1
        assert swaps >= 15

    def test_the_check_itself_catches_every_adjacent_transposition(self):
        # Shape and date checks aside: MOD 11-2 alone must see the swap.
        number = compose("330106", date(2026, 3, 17), "online", 482_519)
        for i in range(20):
            a, b = number[i], number[i + 1]
            if a == b:
                continue
            swapped = number[:i] + b + a + number[i + 2 :]
            assert check_character(swapped[:21]) != swapped[21], f"swap at {i} undetected"


parts = st.tuples(
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(sorted(CHANNEL_DIGITS)),
    st.integers(min_value=1, max_value=999_999),
)


class TestProperties:
    @given(parts)
    def test_compose_then_parse_round_trips(self, value):
        region, desk_date, channel, sequence = value
        number = compose(region, desk_date, channel, sequence)
        assert parse(number) == AcceptanceNumber(number, region, desk_date, channel, sequence)
        assert number[21] == reference_check(number[:21])

    @given(parts, st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=9))
    def test_any_single_digit_substitution_fails_the_check(self, value, position, shift):
        number = compose(*value)
        replacement = str((int(number[position]) + shift) % 10)
        tampered = substitute(number, position, replacement)
        assert check_character(tampered[:21]) != tampered[21]
        with pytest.raises(InvalidNumber):
            parse(tampered)
