"""好差评 rules: levels, tags per channel, what a bad rating needs, conclusion, the rates."""

import pytest

from windowsvc.rules import ratings


class TestLevels:
    def test_five_levels_from_very_dissatisfied_to_very_satisfied(self):
        assert ratings.LEVELS[1] == "非常不满意" and ratings.LEVELS[5] == "非常满意"
        assert sorted(ratings.LEVELS) == [1, 2, 3, 4, 5]

    @pytest.mark.parametrize(("level", "bad", "good"), [(1, 1, 0), (2, 1, 0), (3, 0, 0), (4, 0, 1)])
    def test_one_and_two_are_bad_four_and_five_good(self, level, bad, good):
        assert (ratings.is_bad(level), ratings.is_good(level)) == (bool(bad), bool(good))

    def test_the_default_rating_is_satisfied(self):
        assert ratings.LEVELS[ratings.DEFAULT_LEVEL] == "满意"


class TestTags:
    def test_the_window_offers_efficiency_service_level_and_attitude(self):
        assert ratings.tags_for("window") == {
            "efficiency": "办事效率",
            "service_level": "服务水平",
            "attitude": "服务态度",
        }

    @pytest.mark.parametrize("channel", ["online", "mobile", "self_service"])
    def test_the_online_channels_offer_the_online_list(self, channel):
        assert set(ratings.tags_for(channel)) == {
            "efficiency",
            "guide_accuracy",
            "convenience",
            "usability",
        }

    def test_labels_are_chinese(self):
        assert ratings.tag_labels(["guide_accuracy", "attitude"]) == ["办事指南准确性", "服务态度"]


class TestRatingProblems:
    def test_a_good_rating_needs_nothing_more(self):
        assert ratings.rating_problems(5, [], "", "window") == {}

    @pytest.mark.parametrize("level", [1, 2])
    def test_a_bad_rating_needs_a_tag_or_a_comment(self, level):
        assert "comment" in ratings.rating_problems(level, [], "  ", "window")
        assert ratings.rating_problems(level, ["attitude"], "", "window") == {}
        assert ratings.rating_problems(level, [], "等太久", "window") == {}

    def test_a_tag_of_another_channel_is_unknown(self):
        problems = ratings.rating_problems(4, ["usability"], "", "window")
        assert "usability" in problems["tags"][0]
        assert ratings.rating_problems(4, ["usability"], "", "mobile") == {}

    def test_a_bad_rating_with_only_an_unknown_tag_is_refused_for_the_tag(self):
        assert set(ratings.rating_problems(1, ["nonsense"], "", "online")) == {"tags"}

    @pytest.mark.parametrize("level", [0, 6, None])
    def test_a_level_outside_one_to_five_is_refused(self, level):
        assert set(ratings.rating_problems(level, [], "", "window")) == {"level"}


class TestConcluded:
    @pytest.mark.parametrize(
        "state", ["delivered", "denied", "not_accepted", "withdrawn", "terminated", "archived"]
    )
    def test_a_concluded_case_may_be_rated(self, state):
        assert ratings.is_concluded(state, {})

    @pytest.mark.parametrize("state", ["submitted", "in_progress", "approved", "result_ready"])
    def test_an_open_case_or_an_uncollected_approval_may_not(self, state):
        assert not ratings.is_concluded(state, {"decision": {"outcome": "approve"}})

    def test_a_denial_may_be_rated_while_its_result_waits(self):
        assert ratings.is_concluded("result_ready", {"decision": {"outcome": "deny"}})
        assert not ratings.is_concluded("result_ready", None)


class TestRates:
    def test_the_good_rate_is_four_and_five_over_valid_ratings(self):
        assert ratings.good_rating_rate([5, 4, 3, 1]) == 0.5
        assert ratings.bad_rating_rate([5, 4, 3, 1]) == 0.25

    def test_an_excluded_rating_leaves_the_denominator(self):
        levels, excluded = [5, 4, 3, 1], [False, False, False, True]
        assert ratings.good_rating_rate(levels, excluded) == round(2 / 3, 4)
        assert ratings.bad_rating_rate(levels, excluded) == 0.0

    def test_no_valid_rating_gives_no_rate(self):
        assert ratings.good_rating_rate([]) is None
        assert ratings.good_rating_rate([1], [True]) is None

    def test_rates_are_rounded_to_four_places(self):
        assert ratings.rate(1, 3) == 0.3333 and ratings.rate(0, 0) is None
